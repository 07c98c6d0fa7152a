package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// seedNotifications settles the demo organization's notifications, which seeding produced as
// the product does (the purchases, the statements, the threshold the new limit is already past):
// their mail counts as sent when they happened — a server started with SMTP_URL does not mail
// months-old notices — and the admin has read those older than a week, so the bell shows the
// recent ones.
func seedNotifications(ctx context.Context, db *sqlx.DB, org, admin string, now time.Time) error {
	if _, err := db.ExecContext(ctx, `UPDATE notification_deliveries d SET status = 'sent', sent_at = n.created_at
		FROM notifications n WHERE n.id = d.notification_id AND d.org_id = $1 AND d.status = 'pending'`, org); err != nil {
		return fmt.Errorf("demo: notifications: %w", err)
	}
	_, err := db.ExecContext(ctx, `INSERT INTO notification_reads (notification_id, user_id, read_at)
		SELECT id, $2, created_at FROM notifications WHERE org_id = $1 AND created_at < $3
		ON CONFLICT DO NOTHING`, org, admin, now.AddDate(0, 0, -7))
	if err != nil {
		return fmt.Errorf("demo: notifications: %w", err)
	}
	return nil
}
