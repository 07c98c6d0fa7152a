package billing

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
)

// Usage types, as sent by the flow engine in an event's "type".
const (
	TypeAI             = "ai"
	TypeEmail          = "email"
	TypeSMS            = "sms"
	TypeVoiceCall      = "voice_call"
	TypeVoiceSynthesis = "voice_synthesis"
)

// Types lists the usage types in display order.
var Types = []string{TypeAI, TypeEmail, TypeSMS, TypeVoiceCall, TypeVoiceSynthesis}

// TypeLabel returns a usage type's name for people ("Voice call").
func TypeLabel(t string) string {
	switch t {
	case TypeAI:
		return "AI"
	case TypeEmail:
		return "Email"
	case TypeSMS:
		return "SMS"
	case TypeVoiceCall:
		return "Voice call"
	case TypeVoiceSynthesis:
		return "Voice synthesis"
	}
	return t
}

// Rate is one row of the rate card: the price of a usage type (and model, for AI) from an
// instant on.
type Rate struct {
	Type          string       `db:"type"`
	Model         string       `db:"model"`
	Unit          string       `db:"unit"`
	UnitSize      int64        `db:"unit_size"`
	PerUnit       Millicredits `db:"mc_per_unit"`
	Label         string       `db:"label"`
	EffectiveFrom time.Time    `db:"effective_from"`
}

// Cost prices quantity units: ceil(quantity / UnitSize) × PerUnit. Voice calls have a unit size
// of 60 seconds, so every started minute is billed. quantity must be positive.
func (r Rate) Cost(quantity int64) Millicredits {
	units := (quantity + r.UnitSize - 1) / r.UnitSize
	return Millicredits(units) * r.PerUnit
}

// RateCard is an in-memory copy of the rate card, safe for concurrent use.
type RateCard struct {
	mu    sync.RWMutex
	rates map[string][]Rate // by rateKey, newest EffectiveFrom first
}

func rateKey(typ, model string) string { return typ + "\x00" + model }

// NewRateCard builds a rate card from rows.
func NewRateCard(rows []Rate) *RateCard {
	rc := &RateCard{}
	rc.set(rows)
	return rc
}

func (rc *RateCard) set(rows []Rate) {
	m := make(map[string][]Rate, len(rows))
	for _, r := range rows {
		k := rateKey(r.Type, r.Model)
		m[k] = append(m[k], r)
	}
	for _, rs := range m {
		sort.Slice(rs, func(i, j int) bool { return rs[i].EffectiveFrom.After(rs[j].EffectiveFrom) })
	}
	rc.mu.Lock()
	rc.rates = m
	rc.mu.Unlock()
}

// Find returns the rate for typ and model in force at instant at. For AI the model is required;
// for other types it must be empty. An unknown type or model is EINVALID, never a zero price.
func (rc *RateCard) Find(typ, model string, at time.Time) (Rate, error) {
	rc.mu.RLock()
	rs, ok := rc.rates[rateKey(typ, model)]
	rc.mu.RUnlock()
	if !ok {
		return Rate{}, rc.unknown(typ, model)
	}
	for _, r := range rs {
		if !r.EffectiveFrom.After(at) {
			return r, nil
		}
	}
	return Rate{}, Errorf(EINVALID, "no price for %s is in force at %s", describe(typ, model), at.UTC().Format(time.RFC3339))
}

func describe(typ, model string) string {
	if model == "" {
		return fmt.Sprintf("type %q", typ)
	}
	return fmt.Sprintf("type %q with model %q", typ, model)
}

func (rc *RateCard) unknown(typ, model string) error {
	rc.mu.RLock()
	defer rc.mu.RUnlock()
	var types, models []string
	seenType := map[string]bool{}
	for _, rs := range rc.rates {
		r := rs[0]
		if !seenType[r.Type] {
			seenType[r.Type] = true
			types = append(types, r.Type)
		}
		if r.Type == typ && r.Model != "" {
			models = append(models, r.Model)
		}
	}
	sort.Strings(types)
	sort.Strings(models)
	switch {
	case !seenType[typ]:
		return Errorf(EINVALID, "unknown usage type %q: use one of %s", typ, strings.Join(types, ", "))
	case len(models) > 0 && model == "":
		return Errorf(EINVALID, "type %q needs a model: one of %s", typ, strings.Join(models, ", "))
	case len(models) > 0:
		return Errorf(EINVALID, "unknown model %q for type %q: use one of %s", model, typ, strings.Join(models, ", "))
	default:
		return Errorf(EINVALID, "type %q takes no model; remove \"model\" (got %q)", typ, model)
	}
}

// Current returns the rates in force at instant at, ordered by type then model.
func (rc *RateCard) Current(at time.Time) []Rate {
	rc.mu.RLock()
	defer rc.mu.RUnlock()
	var out []Rate
	for _, rs := range rc.rates {
		for _, r := range rs {
			if !r.EffectiveFrom.After(at) {
				out = append(out, r)
				break
			}
		}
	}
	order := map[string]int{}
	for i, t := range Types {
		order[t] = i
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Type != out[j].Type {
			return order[out[i].Type] < order[out[j].Type]
		}
		return out[i].Model < out[j].Model
	})
	return out
}

// loadRateCard reads the whole rate card.
func loadRateCard(ctx context.Context, db sqlx.QueryerContext) ([]Rate, error) {
	var rows []Rate
	err := sqlx.SelectContext(ctx, db, &rows, queries.SelectRateCard)
	if err != nil {
		return nil, fmt.Errorf("billing: load rate card: %w", err)
	}
	return rows, nil
}
