-- Queries of the limits capability: its audit log. The limits themselves are the core's
-- (orgs, memberships) and change through billing.LedgerTx.

-- name: insert-change
-- One audit entry, written in the transaction that makes the change.
INSERT INTO limit_changes (org_id, actor_id, source, field, member_id, old_mc, new_mc, old_percents, new_percents, created_at)
VALUES (:org_id, :actor_id, :source, :field, :member_id, :old_mc, :new_mc, :old_percents, :new_percents, :created_at);

-- name: select-changes
-- The latest $2 audit entries of org $1, newest first (index limit_changes_org_idx).
SELECT id, actor_id, source, field, COALESCE(member_id, '') AS member_id, old_mc, new_mc,
       old_percents, new_percents, created_at
FROM limit_changes
WHERE org_id = $1
ORDER BY id DESC
LIMIT $2;
