package saas

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"sync"
)

// PBKDF2Iterations is the work factor of new password hashes: OWASP's
// 2023 recommendation for PBKDF2-HMAC-SHA256 (about 0.2 s per hash here).
// The standard library's crypto/pbkdf2 is used rather than argon2id so that
// the application needs no module beyond the drivers; stored hashes carry
// their iteration count, so raising it later keeps old hashes valid.
//
// It is a variable only so that tests can lower it in TestMain: under the
// race detector one hash takes about five seconds. Production code never
// changes it.
var PBKDF2Iterations = 600_000

// Password limits. The upper one bounds the cost of hashing hostile input.
const (
	MinPassword = 8
	MaxPassword = 256
)

const hashScheme = "pbkdf2-sha256"

var b64 = base64.RawStdEncoding

// HashPassword returns an encoded salted hash of password:
// "pbkdf2-sha256$iterations$salt$hash".
func HashPassword(password string) (string, error) {
	if n := len(password); n < MinPassword || n > MaxPassword {
		return "", Errorf(EINVALID, "password must be %d to %d characters", MinPassword, MaxPassword)
	}
	salt := make([]byte, 16)
	rand.Read(salt)
	key, err := pbkdf2.Key(sha256.New, password, salt, PBKDF2Iterations, 32)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return fmt.Sprintf("%s$%d$%s$%s", hashScheme, PBKDF2Iterations, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// CheckPassword reports whether password matches the encoded hash, in
// constant time with respect to the hash's content.
func CheckPassword(encoded, password string) bool {
	parts := strings.Split(encoded, "$")
	if len(parts) != 4 || parts[0] != hashScheme || len(password) > MaxPassword {
		return false
	}
	iter, err := strconv.Atoi(parts[1])
	if err != nil || iter < 1 || iter > 10_000_000 {
		return false
	}
	salt, err1 := b64.DecodeString(parts[2])
	want, err2 := b64.DecodeString(parts[3])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got, err := pbkdf2.Key(sha256.New, password, salt, iter, len(want))
	return err == nil && subtle.ConstantTimeCompare(got, want) == 1
}

// DummyCheck spends the time of one password check, so that an unknown
// email takes as long to refuse as a wrong password.
func DummyCheck(password string) {
	CheckPassword(dummyHash(), password)
}

// dummyHash is computed on first use, not at start-up: it costs as much
// as a login.
var dummyHash = sync.OnceValue(func() string {
	h, _ := HashPassword("not-a-real-password")
	return h
})
