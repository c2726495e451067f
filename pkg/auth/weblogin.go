package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"time"

	"github.com/nexus-go/nexus-go/pkg/errs"
)

// A web login signs a command-line client in through the web UI (npm
// login's default flow): the client asks for a login, opens its login URL
// in a browser, where a signed-in user approves it, and polls its done URL
// until that answers the token made for the user.
//
// The two URLs carry different secrets, so that what a browser sees (the
// login URL) never fetches the token. Pending logins live in memory for
// webLoginTTL: a restart only makes the client start again.
const (
	webLoginTTL = 10 * time.Minute
	// maxWebLogins bounds what anonymous clients can make the server keep.
	maxWebLogins = 1000
)

// WebLogin is a pending web login, as the approving page shows it.
type WebLogin struct {
	// Client is the host name the client reported, for the user to
	// recognise; never trusted.
	Client  string
	Realm   string
	Created time.Time
}

type webLogin struct {
	WebLogin
	doneKey string
	// check decides whether the approving caller may get a token for what
	// the client signs in to (read on the repository it asked).
	check func(ctx context.Context) error
	token string
}

type webLogins struct {
	mu sync.Mutex
	// byLogin and byDone key the same records by the hash of each secret.
	byLogin map[string]*webLogin
	byDone  map[string]*webLogin
}

// StartWebLogin records a pending login for a token of realm and returns
// the secrets of its login and done URLs. check runs when a user approves.
func (s *Service) StartWebLogin(realm, client string, check func(ctx context.Context) error) (loginID, doneID string, err error) {
	if realmFormats[realm] == "" {
		return "", "", errs.New(errs.Invalid, "no tokens of realm %q", realm)
	}
	loginID, doneID = rand.Text(), rand.Text()
	w := &s.web
	w.mu.Lock()
	defer w.mu.Unlock()
	w.expire(s.now())
	if len(w.byLogin) >= maxWebLogins {
		return "", "", errs.New(errs.Conflict, "too many pending web logins: try again later")
	}
	if w.byLogin == nil {
		w.byLogin, w.byDone = map[string]*webLogin{}, map[string]*webLogin{}
	}
	if len(client) > 255 {
		client = client[:255]
	}
	l := &webLogin{WebLogin: WebLogin{Client: client, Realm: realm, Created: s.now()}, doneKey: secretKey(doneID), check: check}
	w.byLogin[secretKey(loginID)] = l
	w.byDone[l.doneKey] = l
	return loginID, doneID, nil
}

// PendingWebLogin returns the pending login of loginID, for the page that
// approves it; errs.NotFound once expired, approved or unknown.
func (s *Service) PendingWebLogin(loginID string) (WebLogin, error) {
	l, err := s.pending(loginID)
	if err != nil {
		return WebLogin{}, err
	}
	return l.WebLogin, nil
}

func (s *Service) pending(loginID string) (*webLogin, error) {
	w := &s.web
	w.mu.Lock()
	defer w.mu.Unlock()
	w.expire(s.now())
	l := w.byLogin[secretKey(loginID)]
	if l == nil {
		return nil, errs.New(errs.NotFound, "this login request is unknown or has expired: run the login again")
	}
	return l, nil
}

// ApproveWebLogin makes a token for the signed-in caller of ctx and hands
// it to the client polling the login's done URL.
func (s *Service) ApproveWebLogin(ctx context.Context, loginID string) error {
	p := PrincipalFrom(ctx)
	if p == nil || p.Anonymous {
		return errs.New(errs.Unauthorized, "sign in to approve a login")
	}
	l, err := s.pending(loginID)
	if err != nil {
		return err
	}
	// A user who may not approve leaves the login pending, for one who may.
	if err := l.check(ctx); err != nil {
		return err
	}
	if l, err = s.takePending(loginID); err != nil {
		return err
	}
	token, _, err := s.CreateToken(ctx, p.UserID, l.Realm, TokenOptions{})
	if err != nil {
		return err
	}
	s.web.mu.Lock()
	l.token = token
	s.web.mu.Unlock()
	s.log.InfoContext(ctx, "web login approved", "user", p.UserID, "realm", l.Realm)
	return nil
}

// takePending removes the pending login of loginID from those awaiting
// approval, so that it is approved once.
func (s *Service) takePending(loginID string) (*webLogin, error) {
	w := &s.web
	w.mu.Lock()
	defer w.mu.Unlock()
	w.expire(s.now())
	key := secretKey(loginID)
	l := w.byLogin[key]
	if l == nil {
		return nil, errs.New(errs.NotFound, "this login request is unknown or has expired: run the login again")
	}
	delete(w.byLogin, key)
	return l, nil
}

// PollWebLogin answers the client polling doneID: its token once
// approved (handed out once), pending while waiting, errs.NotFound when
// unknown or expired.
func (s *Service) PollWebLogin(doneID string) (token string, pending bool, err error) {
	w := &s.web
	w.mu.Lock()
	defer w.mu.Unlock()
	w.expire(s.now())
	l := w.byDone[secretKey(doneID)]
	switch {
	case l == nil:
		return "", false, errs.New(errs.NotFound, "this login is unknown or has expired")
	case l.token == "":
		return "", true, nil
	}
	delete(w.byDone, l.doneKey)
	return l.token, false, nil
}

// expire drops logins older than webLoginTTL; w.mu is held.
func (w *webLogins) expire(now time.Time) {
	for k, l := range w.byDone {
		if now.Sub(l.Created) > webLoginTTL {
			delete(w.byDone, k)
		}
	}
	for k, l := range w.byLogin {
		if now.Sub(l.Created) > webLoginTTL {
			delete(w.byLogin, k)
		}
	}
}

// secretKey is what a login secret is kept under: its hash, so that the
// maps' keys are not the secrets and lookups take the same time.
func secretKey(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}
