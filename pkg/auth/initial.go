package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"

	"github.com/nexus-go/nexus-go/pkg/errs"
)

// MustChangePassword reports whether userID is the admin whose first-start
// password file still exists: the password everyone who can read the data
// directory knows, which the web UI makes its user change before anything
// else. ChangePassword deletes the file.
func (s *Service) MustChangePassword(userID string) bool {
	s.mu.Lock()
	dataDir := s.dataDir
	s.mu.Unlock()
	if userID != AdminUser || dataDir == "" {
		return false
	}
	_, err := os.Stat(filepath.Join(dataDir, AdminPasswordFile))
	return err == nil
}

// externalStamp is the password stamp of directory users; no hash of a
// local password (16 hex digits) can equal it.
const externalStamp = "external"

// PasswordStamp is a value that changes whenever userID's password does:
// a session started with one stamp ends when it no longer matches. It
// reveals nothing of the hash it is made from. A directory user's
// password is not known here: its stamp is constant (externalStamp), and
// its session follows the directory through PrincipalOf instead.
func (s *Service) PasswordStamp(ctx context.Context, userID string) (string, error) {
	u, err := s.db.GetUser(userID)
	if errs.KindOf(err) == errs.NotFound && s.ldapRealm() != nil {
		return externalStamp, nil
	}
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(u.PasswordHash)
	return hex.EncodeToString(sum[:8]), nil
}

// ChangeOwnPassword changes the password of the signed-in caller of ctx,
// who proves the current one first (Authenticate: throttled like every
// sign-in), unless the change is the forced one of the first-start
// password (MustChangePassword). It is for sessions, whose requests carry
// no password; a wrong current password is errs.Unauthorized.
func (s *Service) ChangeOwnPassword(ctx context.Context, current, password, client string) error {
	p := PrincipalFrom(ctx)
	if p == nil || p.Anonymous {
		return errs.New(errs.Unauthorized, "sign in to change your password")
	}
	if !s.MustChangePassword(p.UserID) {
		if _, err := s.Authenticate(ctx, p.UserID, current, client); err != nil {
			return err
		}
	}
	return s.ChangePassword(ctx, p.UserID, password)
}
