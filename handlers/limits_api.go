package handlers

import (
	"bytes"
	"encoding/json"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/luxstudio/lux-billing/api"
	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/identity"
	"github.com/luxstudio/lux-billing/billing/limits"
)

// GetLimits returns the organization's monthly limit, thresholds, low-balance alert and its
// members' limits and usage (a member's key: only its own row).
func (h *API) GetLimits(c echo.Context) error {
	return h.answerLimits(c, nil)
}

// PutLimits changes any of the organization's monthlyLimit, thresholds and lowBalance (null
// clears); an admin's key only.
func (h *API) PutLimits(c echo.Context) error {
	key := apiKey(c)
	if err := needAdminKey(key); err != nil {
		return err
	}
	var body map[string]json.RawMessage
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	ch, err := limitsChange(body)
	if err != nil {
		return err
	}
	res, err := h.Limits.Update(c.Request().Context(), key.OrgID, limits.Actor{UserID: key.UserID, Source: limits.SourceAPI}, ch)
	if err != nil {
		return err
	}
	return h.answerLimits(c, res.Warnings)
}

// PutMemberLimit sets or clears (null) one member's own monthly limit; an admin's key only.
// A user who is not a member of the key's organization is 404.
func (h *API) PutMemberLimit(c echo.Context) error {
	key := apiKey(c)
	if err := needAdminKey(key); err != nil {
		return err
	}
	userID, err := pathParam(c, "userId")
	if err != nil {
		return err
	}
	var body map[string]json.RawMessage
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	if err := onlyKeys(body, limits.FieldMonthlyLimit); err != nil {
		return err
	}
	raw, ok := body[limits.FieldMonthlyLimit]
	if !ok {
		return invalid("send {\"monthlyLimit\": credits} to set the member's limit, or {\"monthlyLimit\": null} to remove it")
	}
	limit, err := creditsOrNull(limits.FieldMonthlyLimit, raw)
	if err != nil {
		return err
	}
	res, err := h.Limits.SetMemberLimit(c.Request().Context(), key.OrgID, limits.Actor{UserID: key.UserID, Source: limits.SourceAPI}, userID, limit)
	if err != nil {
		return err
	}
	return h.answerLimits(c, res.Warnings)
}

// answerLimits writes the organization's limits as the key may see them, with warnings.
func (h *API) answerLimits(c echo.Context, warnings []limits.Warning) error {
	key := apiKey(c)
	o, err := h.Limits.Overview(c.Request().Context(), key.OrgID)
	if err != nil {
		return err
	}
	if key.Role != identity.RoleAdmin {
		o = o.For(key.UserID)
	}
	return c.JSON(http.StatusOK, NewLimits(o, warnings))
}

// NewLimits shapes a limits overview for the API.
func NewLimits(o *limits.Overview, warnings []limits.Warning) api.Limits {
	out := api.Limits{MonthlyLimit: o.MonthlyLimit, Thresholds: o.Thresholds, LowBalance: o.LowBalance,
		CycleUsed: o.CycleUsed, Members: make([]api.LimitMember, len(o.Members))}
	if out.Thresholds == nil {
		out.Thresholds = []int{}
	}
	for i, m := range o.Members {
		out.Members[i] = api.LimitMember{UserID: m.UserID, Email: m.Email, Role: m.Role, MonthlyLimit: m.Limit, Used: m.Used}
	}
	for _, w := range warnings {
		out.Warnings = append(out.Warnings, api.LimitWarning{Field: w.Field, Message: w.Message})
	}
	return out
}

// needAdminKey refuses a member's key: changing limits is for admins (SPEC §9).
func needAdminKey(key *identity.KeyIdentity) error {
	if key.Role == identity.RoleAdmin {
		return nil
	}
	return billing.Errorf(billing.EFORBIDDEN, "changing limits needs an admin's API key; this key belongs to a member of the organization")
}

// limitsChange reads the body of PUT /api/v1/limits: any of monthlyLimit, thresholds and
// lowBalance; null clears. Every wrong field is named.
func limitsChange(body map[string]json.RawMessage) (limits.Change, error) {
	var ch limits.Change
	if err := onlyKeys(body, limits.FieldMonthlyLimit, limits.FieldThresholds, limits.FieldLowBalance); err != nil {
		return ch, err
	}
	if len(body) == 0 {
		return ch, invalid("send at least one of \"monthlyLimit\", \"thresholds\" and \"lowBalance\"")
	}
	var bad limits.Invalid
	var err error
	if raw, ok := body[limits.FieldMonthlyLimit]; ok {
		ch.SetMonthlyLimit = true
		if ch.MonthlyLimit, err = creditsOrNull("", raw); err != nil {
			bad.Add(limits.FieldMonthlyLimit, err)
		}
	}
	if raw, ok := body[limits.FieldThresholds]; ok {
		ch.SetThresholds = true
		if ch.Thresholds, err = percentList(raw); err != nil {
			bad.Add(limits.FieldThresholds, err)
		}
	}
	if raw, ok := body[limits.FieldLowBalance]; ok {
		ch.SetLowBalance = true
		if ch.LowBalance, err = creditsOrNull("", raw); err != nil {
			bad.Add(limits.FieldLowBalance, err)
		}
	}
	return ch, bad.Err()
}

// onlyKeys refuses a key of body that is not one of known (a misspelt field would otherwise
// be ignored silently).
func onlyKeys(body map[string]json.RawMessage, known ...string) error {
	var unknown []string
	for k := range body {
		ok := false
		for _, want := range known {
			ok = ok || k == want
		}
		if !ok {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	sort.Strings(unknown)
	return invalid("unknown field %q: the fields are %s", unknown[0], `"`+strings.Join(known, `", "`)+`"`)
}

// creditsOrNull reads a JSON number of credits (up to 3 decimals) or null (nil). A message
// names field when it is not empty.
func creditsOrNull(field string, raw json.RawMessage) (*billing.Millicredits, error) {
	raw = bytes.TrimSpace(raw)
	prefix := ""
	if field != "" {
		prefix = field + ": "
	}
	if string(raw) == "null" {
		return nil, nil
	}
	var n json.Number
	if len(raw) == 0 || raw[0] == '"' || json.Unmarshal(raw, &n) != nil {
		return nil, invalid("%smust be a number of credits (up to 3 decimals) or null, not %s", prefix, truncate(string(raw), 40))
	}
	m, err := billing.ParseCredits(n.String())
	if err != nil || strings.ContainsAny(n.String(), "eE") {
		return nil, invalid("%smust be a number of credits with up to 3 decimals, like 150000 or 7.5; got %s", prefix, truncate(n.String(), 40))
	}
	return &m, nil
}

// percentList reads thresholds: a JSON array of whole percents, or null (none).
func percentList(raw json.RawMessage) ([]int, error) {
	if string(bytes.TrimSpace(raw)) == "null" {
		return []int{}, nil
	}
	var ns []json.Number
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&ns); err != nil {
		return nil, invalid("must be an array of whole percents, like [50, 80, 100], or null")
	}
	out := make([]int, len(ns))
	for i, n := range ns {
		p, err := strconv.Atoi(n.String())
		if err != nil {
			return nil, invalid("%s is not a whole percent: use whole numbers from 1 to 100", truncate(n.String(), 40))
		}
		out[i] = p
	}
	return out, nil
}

// checkActsAs enforces that keys act as their user (SPEC §9): a member's key may name only its
// own user in userId; an admin's key may name any member. what names the field in the message.
func checkActsAs(key *identity.KeyIdentity, userID, what string) error {
	if userID == "" || userID == key.UserID || key.Role == identity.RoleAdmin {
		return nil
	}
	return billing.Errorf(billing.EFORBIDDEN, "%s: a member's API key acts only as its own user, and userId %q is someone else; leave userId out, or use an admin's key to attribute work to other members", what, userID)
}
