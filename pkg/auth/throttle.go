package auth

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"math"
	"sync"
	"time"
)

// Login throttling. Every login attempt that the login cache does not
// answer is counted, before its password is checked, against three keys:
// the user at the client address (the pair), the client address, and the
// user name. Each key has an allowance of threshold attempts that refills
// at threshold per failureWindow; past it, each further attempt waits
// baseDelay, doubling per attempt up to maxDelay, before it is checked.
// Throttling delays, it does not lock out: the right password gets in
// after the wait. A success takes its own attempt back (and clears its
// pair), so logins that succeed throttle nobody, and an account that works
// cannot be used to clear the count of its address.
//
// Attempts of one throttled pair are also serialised: each reserves the
// next slot after the previous one's, so that concurrent guesses are
// checked one per delay, and an attempt whose slot is more than maxWait
// away is refused without being checked (one at a time never is). The
// address and user keys only add delay: serialising them would let one
// client stall every user behind its address, or one user's guessers stall
// that user everywhere.
const (
	pairThreshold   = 5  // a user at one address
	clientThreshold = 25 // an address spraying many user names
	userThreshold   = 50 // a user guessed at from many addresses
	failureWindow   = time.Minute

	baseDelay = 250 * time.Millisecond
	maxDelay  = 4 * time.Second
	// delaySteps attempts past a threshold reach maxDelay; a key's count
	// is capped there, so a key recovers within a bounded time once its
	// attempts stop.
	delaySteps = 5
	maxWait    = 10 * time.Second

	// maxTracked bounds each key table, so that guessing many user names
	// from many addresses cannot exhaust memory.
	maxTracked = 4096
)

// Key kinds, as logged when a key starts being throttled.
const (
	pairKind   = "user at address"
	clientKind = "address"
	userKind   = "user"
)

// throttle counts login attempts per key. Keys are hashes, so that a
// user name of any length costs the same memory.
type throttle struct {
	mu                    sync.Mutex
	pairs, clients, users table
}

type keyID [sha256.Size]byte

// table is the state of one kind of key.
type table struct {
	records map[keyID]*record
}

type record struct {
	level float64   // attempts counted and not yet refilled
	last  time.Time // when level was last brought up to date
	next  time.Time // pairs: the slot of the latest delayed attempt
}

// attempt is one login attempt as the throttle counted it.
type attempt struct {
	pair, client, user keyID
	wait               time.Duration // to wait before checking the password
	refused            bool          // refuse without checking: the pair's queue is full
	throttled          []string      // kinds of key this attempt pushed past their threshold
}

func keyOf(parts ...string) keyID {
	h := sha256.New()
	for _, p := range parts {
		// Length-prefixed, so that distinct tuples never share a key.
		h.Write(binary.BigEndian.AppendUint64(nil, uint64(len(p))))
		h.Write([]byte(p))
	}
	var k keyID
	h.Sum(k[:0])
	return k
}

// begin counts an attempt of user from client at now and says how long it
// must wait, or whether it is refused.
func (t *throttle) begin(user, client string, now time.Time) attempt {
	a := attempt{pair: keyOf(user, client), client: keyOf(client), user: keyOf(user)}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, k := range []struct {
		tab       *table
		key       keyID
		threshold int
		kind      string
	}{
		{&t.pairs, a.pair, pairThreshold, pairKind},
		{&t.clients, a.client, clientThreshold, clientKind},
		{&t.users, a.user, userThreshold, userKind},
	} {
		r := k.tab.record(k.key, k.threshold, now)
		before := r.level
		r.level = min(r.level+1, float64(k.threshold+delaySteps))
		if before <= float64(k.threshold) && r.level > float64(k.threshold) {
			a.throttled = append(a.throttled, k.kind)
		}
		d := delay(r.level, k.threshold)
		if k.kind == pairKind && d > 0 {
			slot := later(now, r.next).Add(d)
			if slot.Sub(now) > maxWait {
				a.refused = true
				continue
			}
			r.next = slot
			d = slot.Sub(now)
		}
		a.wait = max(a.wait, d)
	}
	return a
}

// succeeded takes a's attempt back: the pair is cleared, the address and
// the user lose one count.
func (t *throttle) succeeded(a attempt) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.pairs.records, a.pair)
	for _, k := range []struct {
		tab *table
		key keyID
	}{{&t.clients, a.client}, {&t.users, a.user}} {
		if r := k.tab.records[k.key]; r != nil {
			r.level = max(r.level-1, 0)
		}
	}
}

// delay is the wait of an attempt that brought its key to level.
func delay(level float64, threshold int) time.Duration {
	over := math.Ceil(level - float64(threshold))
	if over < 1 {
		return 0
	}
	d := baseDelay
	for i := 1.0; i < over && d < maxDelay; i++ {
		d *= 2
	}
	return min(d, maxDelay)
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// record returns the record of key, brought up to date at now: its level
// refilled by threshold per failureWindow since it was last touched.
func (tb *table) record(key keyID, threshold int, now time.Time) *record {
	if tb.records == nil {
		tb.records = make(map[keyID]*record)
	}
	r := tb.records[key]
	if r == nil {
		tb.makeRoom(threshold, now)
		r = &record{last: now}
		tb.records[key] = r
	}
	r.refill(threshold, now)
	return r
}

func (r *record) refill(threshold int, now time.Time) {
	if elapsed := now.Sub(r.last); elapsed > 0 {
		r.level = max(r.level-float64(threshold)*elapsed.Seconds()/failureWindow.Seconds(), 0)
		r.last = now
	}
}

// makeRoom keeps the table within maxTracked before a key is added. It
// frees a quarter at once, so that a flood of new keys does not scan the
// table at every attempt: records that refilled completely go first, then
// those under the threshold, so that new names do not wash out the keys
// being throttled; only a table full of throttled keys loses some of them.
func (tb *table) makeRoom(threshold int, now time.Time) {
	if len(tb.records) < maxTracked {
		return
	}
	target := maxTracked * 3 / 4
	for _, evict := range []func(*record) bool{
		func(r *record) bool { r.refill(threshold, now); return r.level == 0 && !now.Before(r.next) },
		func(r *record) bool { return r.level <= float64(threshold) },
		func(*record) bool { return true },
	} {
		for k, r := range tb.records {
			if len(tb.records) <= target {
				return
			}
			if evict(r) {
				delete(tb.records, k)
			}
		}
	}
}

// successTTL is how long a verified password is remembered, so that clients
// sending Basic credentials on every request do not pay bcrypt each time.
const (
	successTTL      = time.Minute
	maxCachedLogins = 1024
)

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
