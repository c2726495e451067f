package ui

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"sync"
	"time"
)

// Cookie names: the session, and the token a sign-in form is checked
// against before any session exists (double submit).
const (
	sessionCookie = "NXSESSIONID"
	loginCookie   = "NXCSRF"
)

// session is one signed-in browser. The user's rights are resolved again
// on every request; the session only says who signed in.
type session struct {
	key   [sha256.Size]byte
	user  string
	csrf  string
	stamp string // auth.PasswordStamp at sign-in: a new password ends the session
	last  time.Time
}

// maxSessions bounds the sessions kept at once.
const maxSessions = 10000

// sessions are kept in memory, keyed by the sha256 of their cookie value,
// so that the map (a heap dump, a debugger) holds no usable id. A restart
// signs everyone out.
type sessions struct {
	mu      sync.Mutex
	byKey   map[[sha256.Size]byte]*session
	timeout time.Duration
	now     func() time.Time
}

func newSessions(timeout time.Duration, now func() time.Time) *sessions {
	return &sessions{byKey: map[[sha256.Size]byte]*session{}, timeout: timeout, now: now}
}

// randomToken is 32 random bytes, URL-safe base64.
func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// create starts a session for user and returns its cookie value.
func (s *sessions) create(user, stamp string) (string, *session) {
	id := randomToken()
	sess := &session{key: sha256.Sum256([]byte(id)), user: user, csrf: randomToken(), stamp: stamp, last: s.now()}
	s.mu.Lock()
	defer s.mu.Unlock()
	// Expired sessions go when new ones come: their number stays bounded
	// by the sign-ins of one timeout.
	var lru *session
	for k, old := range s.byKey {
		if s.expired(old) {
			delete(s.byKey, k)
		} else if lru == nil || old.last.Before(lru.last) {
			lru = old
		}
	}
	// Past the cap, the session unused longest makes room.
	if len(s.byKey) >= maxSessions && lru != nil {
		delete(s.byKey, lru.key)
	}
	s.byKey[sess.key] = sess
	return id, sess
}

func (s *sessions) expired(sess *session) bool { return s.now().Sub(sess.last) > s.timeout }

// get returns the live session of cookie value id and marks it used, or
// nil (an expired one is deleted).
func (s *sessions) get(id string) *session {
	if id == "" {
		return nil
	}
	key := sha256.Sum256([]byte(id))
	s.mu.Lock()
	defer s.mu.Unlock()
	sess := s.byKey[key]
	if sess == nil {
		return nil
	}
	if s.expired(sess) {
		delete(s.byKey, key)
		return nil
	}
	sess.last = s.now()
	return sess
}

func (s *sessions) delete(sess *session) {
	s.mu.Lock()
	delete(s.byKey, sess.key)
	s.mu.Unlock()
}

// restamp records a new password stamp on sess and ends the user's other
// sessions: a password change signs out every other browser.
func (s *sessions) restamp(sess *session, stamp string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, other := range s.byKey {
		if other.user == sess.user && other != sess {
			delete(s.byKey, k)
		}
	}
	sess.stamp = stamp
}

// endUser ends every session of user (after a reset by an administrator).
func (s *sessions) endUser(user string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, other := range s.byKey {
		if other.user == user {
			delete(s.byKey, k)
		}
	}
}

// sameToken compares a submitted token with the expected one in constant
// time; an empty expected token matches nothing.
func sameToken(got, want string) bool {
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// cookie is a cookie of the UI: HttpOnly, SameSite=Lax, for the context
// path, Secure when the request came over TLS (directly or through a proxy
// that said so).
func (u *UI) cookie(secure bool, name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: u.cookiePath(), MaxAge: maxAge,
		HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode}
}

func (u *UI) cookiePath() string {
	if u.prefix == "" {
		return "/"
	}
	return u.prefix
}
