package saas

import "context"

// LogAccessService keeps who may read the logs in the admin UI: superusers
// always, and the users granted the log viewer role.
type LogAccessService interface {
	// IsLogViewer reports whether the user holds the log viewer grant.
	IsLogViewer(ctx context.Context, userID int64) (bool, error)
	// SetLogViewer grants (or with false revokes) the log viewer role.
	// An unknown user is ENOTFOUND.
	SetLogViewer(ctx context.Context, userID int64, grant bool) error
	// UsersWithAccess lists up to limit users, oldest first, with their grant.
	UsersWithAccess(ctx context.Context, limit int) ([]UserAccess, error)
	// OrgName returns an organisation's name, or ENOTFOUND.
	OrgName(ctx context.Context, orgID int64) (string, error)
}

// UserAccess is a user with their log viewer grant.
type UserAccess struct {
	User      User
	LogViewer bool
}
