package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// defaultAPIURL is the server client commands talk to when neither LUX_API_URL nor a saved
// login names one.
const defaultAPIURL = "http://localhost:8080"

// savedLogin is what `lux login` keeps in the user's config dir.
type savedLogin struct {
	URL string `json:"url"`
	Key string `json:"key"`
}

// loginPath is where `lux login` saves the server and key: $XDG_CONFIG_HOME/lux/config.json
// when XDG_CONFIG_HOME is set (on every OS), else the OS user config dir
// (~/.config/lux/config.json on Linux, ~/Library/Application Support/lux/config.json on macOS).
func loginPath() (string, error) {
	dir := os.Getenv("XDG_CONFIG_HOME")
	if dir == "" || !filepath.IsAbs(dir) {
		var err error
		if dir, err = os.UserConfigDir(); err != nil {
			return "", fmt.Errorf("cannot find your config directory (%v): set XDG_CONFIG_HOME", err)
		}
	}
	return filepath.Join(dir, "lux", "config.json"), nil
}

// readLogin returns the saved login, or a zero one when there is none.
func readLogin() (savedLogin, string, error) {
	path, err := loginPath()
	if err != nil {
		return savedLogin{}, "", err
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return savedLogin{}, path, nil
	}
	if err != nil {
		return savedLogin{}, path, fmt.Errorf("cannot read your saved login %s: %w", path, err)
	}
	var l savedLogin
	if err := json.Unmarshal(b, &l); err != nil {
		return savedLogin{}, path, fmt.Errorf("your saved login %s is damaged (%v): run `lux logout`, then `lux login`", path, err)
	}
	return l, path, nil
}

// writeLogin saves l readable by the user only (0600, in a 0700 directory). The file is
// written aside and renamed, so a crash never leaves half a key.
func writeLogin(l savedLogin) (string, error) {
	path, err := loginPath()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", fmt.Errorf("cannot create %s: %w", filepath.Dir(path), err)
	}
	b, _ := json.MarshalIndent(l, "", "  ")
	tmp, err := os.CreateTemp(filepath.Dir(path), ".config-*.json")
	if err != nil {
		return "", fmt.Errorf("cannot save your login in %s: %w", filepath.Dir(path), err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing left to remove
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return "", err
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return "", fmt.Errorf("cannot save your login: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("cannot save your login: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", fmt.Errorf("cannot save your login as %s: %w", path, err)
	}
	return path, nil
}

// sameServer reports whether two API URLs name the same server (ignoring a trailing slash).
func sameServer(a, b string) bool {
	return strings.TrimRight(a, "/") == strings.TrimRight(b, "/")
}

// exitError ends lux with a given exit code (SPEC §10: 1 error, 2 wrong usage, 3 paused).
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// ExitCode is the process's exit code.
func (e *exitError) ExitCode() int { return e.code }

// Exit codes of lux (SPEC §10).
const (
	exitOK     = 0
	exitFailed = 1
	exitUsage  = 2
	exitPaused = 3
)

// usageErrorf is a mistake in how lux was called: exit code 2.
func usageErrorf(format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

// exitCodeOf returns the exit code for an error returned by a command.
func exitCodeOf(err error) int {
	var e interface{ ExitCode() int }
	if errors.As(err, &e) {
		return e.ExitCode()
	}
	if err == nil {
		return exitOK
	}
	return exitFailed
}
