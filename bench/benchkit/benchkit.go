// Package benchkit is what every benchmark under bench/ shares: a fresh database dropped at the
// end, the module root, the markdown section a benchmark owns in docs/BENCHMARKS.md, the load
// average, latency quantiles, and the load loops (concurrent clients for a bounded time, or a
// fixed number of sequential timed calls).
package benchkit

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/lib/pq"

	"github.com/luxstudio/lux-billing/billing/billingtest"
)

// DefaultServerURL is the local PostgreSQL's postgres database.
const DefaultServerURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// ServerURL is $LUX_BENCH_SERVER_URL, else the local PostgreSQL.
func ServerURL() string {
	if u := os.Getenv("LUX_BENCH_SERVER_URL"); u != "" {
		return u
	}
	return DefaultServerURL
}

// Logf reports progress on stderr, stamped with the time; stdout carries only markdown.
func Logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s  "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

// FreshDatabase creates a database named prefix_<random> on the server at serverURL, which must
// be on this machine, and returns its URL and a function that drops it (forcing connections
// off). keep leaves it in place, for EXPLAIN afterwards.
func FreshDatabase(ctx context.Context, serverURL, prefix string) (dsn string, drop func(keep bool), err error) {
	u, err := url.Parse(serverURL)
	if err != nil {
		return "", nil, fmt.Errorf("server URL: %w", err)
	}
	if h := u.Hostname(); h != "127.0.0.1" && h != "localhost" && h != "::1" {
		return "", nil, fmt.Errorf("the server URL points at %q: benchmarks only run against a server on this machine", h)
	}
	admin, err := sql.Open("postgres", serverURL)
	if err != nil {
		return "", nil, err
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := prefix + "_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+pq.QuoteIdentifier(name)); err != nil {
		admin.Close()
		return "", nil, fmt.Errorf("create database (is PostgreSQL running at %s?): %w", u.Redacted(), err)
	}
	c := *u
	c.Path = "/" + name
	drop = func(keep bool) {
		defer admin.Close()
		if keep {
			Logf("kept database %s", name)
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+pq.QuoteIdentifier(name)+" WITH (FORCE)"); err != nil {
			Logf("could not drop database %s: %v", name, err)
		}
	}
	return c.String(), drop, nil
}

// DatabaseName is the database a PostgreSQL URL names.
func DatabaseName(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return ""
	}
	return strings.TrimPrefix(u.Path, "/")
}

// ModuleRoot is the directory of the go.mod at or above the working directory.
func ModuleRoot() (string, error) { return billingtest.ModuleRoot() }

// LoadAvg is the machine's 1-minute load average as /proc shows it ("?" without /proc).
func LoadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return "?"
	}
	return f[0]
}

// Quantile is the q-quantile (nearest rank) of sorted durations; 0 for none.
func Quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// MS is d in milliseconds.
func MS(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// WriteSection replaces the section of the markdown file at path (relative to the module root
// unless absolute) that starts with the line heading, up to the next "## " heading, with
// section; it appends the section when there is none and creates the file when it does not
// exist. Nothing else in the file changes; the file is replaced in one rename.
func WriteSection(path, heading, section string) error {
	if !filepath.IsAbs(path) {
		root, err := ModuleRoot()
		if err != nil {
			return err
		}
		path = filepath.Join(root, path)
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		b, err = []byte("# Benchmarks\n\nMeasured speed of Lux Billing; each section says how it was measured and how to reproduce it.\n"), nil
	}
	if err != nil {
		return err
	}
	return writeFileAtomic(path, ReplaceSection(string(b), heading, section))
}

// ReplaceSection is WriteSection on a string.
func ReplaceSection(doc, heading, section string) string {
	section = strings.TrimRight(section, "\n") + "\n"
	lines := strings.SplitAfter(doc, "\n")
	start := -1
	for i, line := range lines {
		if strings.TrimRight(line, "\r\n") == heading {
			start = i
			break
		}
	}
	if start < 0 {
		doc = strings.TrimRight(doc, "\n")
		if doc == "" {
			return section
		}
		return doc + "\n\n" + section
	}
	end := len(lines)
	for i := start + 1; i < len(lines); i++ {
		if strings.HasPrefix(lines[i], "## ") {
			end = i
			break
		}
	}
	before, after := strings.Join(lines[:start], ""), strings.Join(lines[end:], "")
	if after != "" {
		section += "\n"
	}
	return before + section + after
}

func writeFileAtomic(path, content string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".benchmarks-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // a no-op after the rename
	if _, err := tmp.WriteString(content); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// Sorted returns ds sorted (in place).
func Sorted(ds []time.Duration) []time.Duration {
	slices.Sort(ds)
	return ds
}
