package documents

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"

	"github.com/luxstudio/lux-billing/billing"
)

// Profile is an organization's billing details, printed as the bill-to block of documents
// issued after it was saved (documents already issued keep the details they were issued with).
type Profile struct {
	OrgID     string    `db:"org_id"`
	Name      string    `db:"name"`
	Address   string    `db:"address"` // up to 4 lines, newline-separated
	Country   string    `db:"country"` // ISO 3166-1 alpha-2, or ""
	TaxID     string    `db:"tax_id"`
	Email     string    `db:"email"`
	UpdatedAt time.Time `db:"updated_at"`
	UpdatedBy string    `db:"updated_by"`
	// Saved is false when the org has not saved details yet (Name is then the org's name).
	Saved bool `db:"-"`
}

// ProfileError lists what is wrong with a billing profile, by field (name, address, country,
// taxId, email), so a form can show each message next to its field.
type ProfileError struct {
	Fields map[string]string
}

// Error implements error.
func (e *ProfileError) Error() string {
	keys := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, e.Fields[k])
	}
	return strings.Join(parts, " ")
}

// Unwrap makes a ProfileError an EINVALID billing.Error for the one error mapping.
func (e *ProfileError) Unwrap() error { return billing.Errorf(billing.EINVALID, "%s", e.Error()) }

var taxIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9 .\-/]{1,39}$`)

// Normalize trims p's fields and upper-cases its country and tax id.
func (p *Profile) Normalize() {
	p.Name = strings.TrimSpace(p.Name)
	var lines []string
	for _, l := range strings.Split(strings.ReplaceAll(p.Address, "\r\n", "\n"), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	p.Address = strings.Join(lines, "\n")
	p.Country = strings.ToUpper(strings.TrimSpace(p.Country))
	p.TaxID = strings.ToUpper(strings.TrimSpace(p.TaxID))
	p.Email = strings.TrimSpace(p.Email)
}

// Validate checks a normalized profile; the error is a *ProfileError.
func (p *Profile) Validate() error {
	bad := map[string]string{}
	switch n := utf8.RuneCountInString(p.Name); {
	case n == 0:
		bad["name"] = "Enter the name to bill, such as your company's legal name."
	case n > 200:
		bad["name"] = "The billing name can be at most 200 characters."
	}
	lines := strings.Split(p.Address, "\n")
	if len(lines) > 4 {
		bad["address"] = "The address can have at most 4 lines."
	}
	for _, l := range lines {
		if utf8.RuneCountInString(l) > 80 {
			bad["address"] = "Each address line can be at most 80 characters."
		}
	}
	if _, ok := countryNames[p.Country]; p.Country != "" && !ok {
		bad["country"] = "Choose a country from the list."
	}
	if p.TaxID != "" && !taxIDPattern.MatchString(p.TaxID) {
		bad["taxId"] = "A tax id has 2 to 40 letters, digits, spaces, dots, dashes or slashes, such as DE123456789."
	}
	if p.Email != "" {
		if a, err := mail.ParseAddress(p.Email); err != nil || a.Address != p.Email || len(p.Email) > 200 {
			bad["email"] = "Enter one email address for invoices, such as finance@example.com, or leave it empty."
		}
	}
	for _, s := range []string{p.Name, p.Address, p.TaxID, p.Email} {
		if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
			bad["name"] = "The billing details hold characters that cannot be printed."
		}
	}
	if len(bad) > 0 {
		return &ProfileError{Fields: bad}
	}
	return nil
}

// Party is the profile as a document's bill-to block.
func (p *Profile) Party() Party {
	party := Party{Name: p.Name, Country: p.Country, TaxID: p.TaxID, Email: p.Email}
	if p.Address != "" {
		party.Address = strings.Split(p.Address, "\n")
	}
	return party
}

// FindProfile returns org's billing profile; an org that saved none gets its name and
// Saved false.
func (s *Service) FindProfile(ctx context.Context, orgID string) (*Profile, error) {
	org, err := s.org(ctx, s.db, orgID)
	if err != nil {
		return nil, err
	}
	return s.profile(ctx, s.db, org)
}

func (s *Service) profile(ctx context.Context, db sqlx.QueryerContext, org *orgRow) (*Profile, error) {
	var p Profile
	err := sqlx.GetContext(ctx, db, &p, q.selectProfile, org.ID)
	if errors.Is(err, sql.ErrNoRows) {
		return &Profile{OrgID: org.ID, Name: org.Name}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("documents: billing profile: %w", err)
	}
	p.Saved = true
	return &p, nil
}

func (s *Service) billTo(ctx context.Context, tx *sqlx.Tx, org *orgRow) (Party, error) {
	p, err := s.profile(ctx, tx, org)
	if err != nil {
		return Party{}, err
	}
	return p.Party(), nil
}

// SaveProfile validates and saves org's billing profile as changed by userID. It applies to
// documents issued from now on. Invalid details are a *ProfileError (EINVALID).
func (s *Service) SaveProfile(ctx context.Context, orgID, userID string, p Profile) (*Profile, error) {
	p.Normalize()
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if _, err := s.org(ctx, s.db, orgID); err != nil {
		return nil, err
	}
	p.OrgID, p.UpdatedBy, p.UpdatedAt, p.Saved = orgID, userID, s.now(), true
	if _, err := s.db.NamedExecContext(ctx, q.upsertProfile, &p); err != nil {
		return nil, fmt.Errorf("documents: save billing profile: %w", err)
	}
	return &p, nil
}

// Countries returns the ISO 3166-1 alpha-2 codes with their names, sorted by name.
func Countries() [][2]string {
	out := make([][2]string, 0, len(countryNames))
	for code, name := range countryNames {
		out = append(out, [2]string{code, name})
	}
	sort.Slice(out, func(i, j int) bool { return out[i][1] < out[j][1] })
	return out
}

// CountryName returns the name of an ISO code, or the code itself.
func CountryName(code string) string {
	if n, ok := countryNames[code]; ok {
		return n
	}
	return code
}
