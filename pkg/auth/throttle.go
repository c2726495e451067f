package auth

import (
	"crypto/sha256"
	"crypto/subtle"
	"sync"
	"time"
)

// Login throttling: failed logins within failureWindow are counted per
// user at an address, per address and per user; past a key's limit further
// attempts for it are refused without checking for lockoutPeriod. The
// limits are layered so that one client guessing cannot lock a user out
// everywhere, nor everybody behind its address: a user at one address is
// stopped after maxFailures, an address spraying many names after
// maxAddressFailures, and a user guessed at from many addresses after
// maxUserFailures.
const (
	maxFailures        = 5
	maxAddressFailures = 25
	maxUserFailures    = 50
	failureWindow      = time.Minute
	lockoutPeriod      = time.Minute

	// maxTracked bounds the failure table; beyond it, stale entries are
	// swept so that guessing many user names cannot exhaust memory.
	maxTracked = 4096
)

// successTTL is how long a verified password is remembered, so that clients
// sending Basic credentials on every request do not pay bcrypt each time.
const (
	successTTL      = time.Minute
	maxCachedLogins = 1024
)

type failures struct {
	times        []time.Time
	blockedUntil time.Time
}

// throttle counts failed logins per key ("pair:<name>@<ip>", "addr:<ip>",
// "user:<name>").
type throttle struct {
	mu   sync.Mutex
	keys map[string]*failures
}

// blocked reports whether key is locked out at now.
func (t *throttle) blocked(key string, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	f := t.keys[key]
	return f != nil && now.Before(f.blockedUntil)
}

// fail records a failure for key and reports whether key, allowed limit
// failures, is now locked out.
func (t *throttle) fail(key string, limit int, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.keys == nil {
		t.keys = make(map[string]*failures)
	}
	f := t.keys[key]
	if f == nil {
		if len(t.keys) >= maxTracked {
			t.sweep(now)
		}
		// Still full of live entries (a flood from many addresses): make
		// room, since memory must stay bounded whatever the callers do.
		for k := range t.keys {
			if len(t.keys) < maxTracked {
				break
			}
			delete(t.keys, k)
		}
		f = &failures{}
		t.keys[key] = f
	}
	f.times = recent(f.times, now)
	f.times = append(f.times, now)
	if len(f.times) < limit {
		return false
	}
	f.times = nil
	f.blockedUntil = now.Add(lockoutPeriod)
	return true
}

// reset forgets the failures of key after a successful login.
func (t *throttle) reset(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.keys, key)
}

func (t *throttle) sweep(now time.Time) {
	for k, f := range t.keys {
		f.times = recent(f.times, now)
		if len(f.times) == 0 && !now.Before(f.blockedUntil) {
			delete(t.keys, k)
		}
	}
}

// recent drops the times that fell out of the failure window.
func recent(times []time.Time, now time.Time) []time.Time {
	cut := now.Add(-failureWindow)
	i := 0
	for i < len(times) && !times[i].After(cut) {
		i++
	}
	return times[i:]
}

type cachedLogin struct {
	secret    [sha256.Size]byte // sha256 of the password
	gen       uint64            // the security generation it was checked at
	principal *Principal
	expires   time.Time
}

// loginCache remembers recent successful logins per user with the
// principal they resolved to, so that clients sending Basic credentials on
// every request pay neither bcrypt nor the database each time.
type loginCache struct {
	mu    sync.Mutex
	users map[string]cachedLogin
}

// principal returns the cached principal of user if password was verified
// less than successTTL ago and no user, role or setting has changed since
// (gen, the security generation): a password change made by any path
// defeats the entry.
func (c *loginCache) principal(user, password string, gen uint64, now time.Time) *Principal {
	c.mu.Lock()
	e, ok := c.users[user]
	c.mu.Unlock()
	if !ok || e.gen != gen || !now.Before(e.expires) {
		return nil
	}
	sum := sha256.Sum256([]byte(password))
	if subtle.ConstantTimeCompare(sum[:], e.secret[:]) != 1 {
		return nil
	}
	return e.principal
}

func (c *loginCache) put(user, password string, gen uint64, p *Principal, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.users == nil {
		c.users = make(map[string]cachedLogin)
	}
	if _, ok := c.users[user]; !ok && len(c.users) >= maxCachedLogins {
		for k, e := range c.users {
			if !now.Before(e.expires) {
				delete(c.users, k)
			}
		}
		if len(c.users) >= maxCachedLogins {
			return // full of live entries: just verify with bcrypt next time
		}
	}
	c.users[user] = cachedLogin{secret: sha256.Sum256([]byte(password)), gen: gen, principal: p, expires: now.Add(successTTL)}
}
