-- Named queries for monthly limits (limits.go).

-- name: set-org-limit
UPDATE orgs SET monthly_limit_mc = $2 WHERE id = $1;

-- name: set-member-limit
UPDATE memberships SET monthly_limit_mc = $3 WHERE org_id = $1 AND user_id = $2;
