package store

import (
	"context"
	"database/sql"
	"fmt"
	"net/mail"
	"strings"
	"unicode/utf8"

	"github.com/sidelog/sidelog/saas"
)

const userColumns = `id, email, name, is_superuser, created_at`

// CreateUser implements saas.UserService.
func (db *DB) CreateUser(ctx context.Context, u *saas.User, password string) error {
	if err := validateUser(u); err != nil {
		return err
	}
	hash, err := saas.HashPassword(password)
	if err != nil {
		return err
	}
	u.CreatedAt = db.now()
	tx, err := db.begin(ctx)
	if err != nil {
		return fmt.Errorf("create user: %w", err)
	}
	defer tx.Rollback()
	err = tx.QueryRowContext(ctx, `INSERT INTO users (email, name, password_hash, is_superuser, created_at)
		VALUES ($1, $2, $3, $4, $5) RETURNING id`,
		u.Email, u.Name, hash, u.IsSuperuser, u.CreatedAt).Scan(&u.ID)
	if isUnique(err) {
		return saas.Errorf(saas.ECONFLICT, "a user with this email already exists")
	} else if err != nil {
		return fmt.Errorf("create user: %w", err)
	}
	if err := db.commit(ctx, tx); err != nil {
		return fmt.Errorf("create user: %w", err)
	}
	return nil
}

func validateUser(u *saas.User) error {
	u.Email = strings.ToLower(strings.TrimSpace(u.Email))
	u.Name = strings.TrimSpace(u.Name)
	if a, err := mail.ParseAddress(u.Email); err != nil || a.Address != u.Email || len(u.Email) > 254 {
		return saas.Errorf(saas.EINVALID, "a valid email address is required")
	}
	if u.Name == "" {
		u.Name = strings.SplitN(u.Email, "@", 2)[0]
	}
	if utf8.RuneCountInString(u.Name) > 100 || strings.ContainsAny(u.Name, "\x00\r\n") {
		return saas.Errorf(saas.EINVALID, "name must be at most 100 characters on one line")
	}
	return nil
}

// Authenticate implements saas.UserService.
func (db *DB) Authenticate(ctx context.Context, email, password string) (*saas.User, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	var u saas.User
	var hash string
	err := db.db.QueryRowContext(ctx, `SELECT `+userColumns+`, password_hash FROM users WHERE email = $1`, email).
		Scan(&u.ID, &u.Email, &u.Name, &u.IsSuperuser, &u.CreatedAt, &hash)
	switch {
	case err == sql.ErrNoRows:
		saas.DummyCheck(password)
		return nil, saas.Errorf(saas.EUNAUTHORIZED, "wrong email or password")
	case err != nil:
		return nil, fmt.Errorf("authenticate: %w", err)
	case !saas.CheckPassword(hash, password):
		return nil, saas.Errorf(saas.EUNAUTHORIZED, "wrong email or password")
	}
	u.CreatedAt = u.CreatedAt.UTC()
	return &u, nil
}

// FindUserByID implements saas.UserService.
func (db *DB) FindUserByID(ctx context.Context, id int64) (*saas.User, error) {
	return db.findUser(ctx, `id = $1`, id)
}

// FindUserByEmail implements saas.UserService.
func (db *DB) FindUserByEmail(ctx context.Context, email string) (*saas.User, error) {
	return db.findUser(ctx, `email = $1`, strings.ToLower(strings.TrimSpace(email)))
}

func (db *DB) findUser(ctx context.Context, where string, arg any) (*saas.User, error) {
	var u saas.User
	err := db.db.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE `+where, arg).
		Scan(&u.ID, &u.Email, &u.Name, &u.IsSuperuser, &u.CreatedAt)
	if err != nil {
		return nil, notFound(err, "user not found")
	}
	u.CreatedAt = u.CreatedAt.UTC()
	return &u, nil
}

// CountUsers implements saas.UserService.
func (db *DB) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := db.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n)
	return n, err
}
