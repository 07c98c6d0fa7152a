-- Named queries of the billing overview: recent ledger activity, a member's standing in the
-- current cycle and the organization's admins. Loaded once at start-up (see activity.go).

-- name: select-recent-activity
-- The org's latest ledger entries, newest first, with the kind of grant a grant entry added.
-- $1 org, $2 filter ('all', 'usage' or 'credits': everything but usage), $3 limit.
-- Walks ledger_entries_org_idx backwards. For 'credits' the walk skips usage entries; an index
-- ON ledger_entries (org_id, id) WHERE kind <> 'usage' would bound it for very busy orgs.
SELECT e.id, e.kind, COALESCE(g.kind, '') AS grant_kind, e.amount_mc, e.unfunded_mc, e.memo,
       e.created_at
FROM ledger_entries e
LEFT JOIN grants g ON g.id = e.grant_id
WHERE e.org_id = $1
  AND ($2 = 'all' OR ($2 = 'usage') = (e.kind = 'usage'))
ORDER BY e.id DESC
LIMIT $3;

-- name: select-member-standing
-- A member's role, monthly limit and usage in the cycle starting $3 (member_cycle_usage key).
-- $1 org, $2 user.
SELECT m.user_id, m.role, m.monthly_limit_mc, COALESCE(u.used_mc, 0) AS used_mc
FROM memberships m
LEFT JOIN member_cycle_usage u
  ON u.org_id = m.org_id AND u.user_id = m.user_id AND u.cycle_start = $3
WHERE m.org_id = $1 AND m.user_id = $2;

-- name: select-org-admins
-- The admins of org $1, by name (memberships primary key, then users primary key).
SELECT u.id, u.email, u.name
FROM memberships m JOIN users u ON u.id = m.user_id
WHERE m.org_id = $1 AND m.role = 'admin'
ORDER BY lower(u.name), u.email;
