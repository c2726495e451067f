package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/sync/semaphore"

	"github.com/nexus-go/nexus-go/pkg/clientip"
	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/meta"
)

// wrongPassword, and any password starting with it, is answered by the
// probe's comparison without running bcrypt, which takes more than half a
// second under the race detector; every other password is checked for
// real.
const wrongPassword = "wrong"

// probe records the password comparisons and throttling waits of a
// Service: a comparison is counted with the hash it was made against, and a
// wait advances the fake clock instead of sleeping.
type probe struct {
	mu     sync.Mutex
	hashes [][]byte
	waits  []time.Duration
}

func (f *fixture) probe() *probe {
	p := &probe{}
	f.s.compare = func(hash, password []byte) error {
		p.mu.Lock()
		p.hashes = append(p.hashes, hash)
		p.mu.Unlock()
		if strings.HasPrefix(string(password), wrongPassword) {
			return bcrypt.ErrMismatchedHashAndPassword
		}
		return bcrypt.CompareHashAndPassword(hash, password)
	}
	f.s.sleep = func(_ context.Context, d time.Duration) error {
		p.mu.Lock()
		p.waits = append(p.waits, d)
		p.mu.Unlock()
		f.clock.Advance(d)
		return nil
	}
	return p
}

// since returns how many comparisons and which waits happened since the
// counts compares and waits were taken.
func (p *probe) since(compares, waits int) (int, []time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.hashes) - compares, slices.Clone(p.waits[waits:])
}

func (p *probe) counts() (compares, waits int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.hashes), len(p.waits)
}

// login runs one attempt and returns its error, the comparisons it made
// and the waits it asked for.
func (f *fixture) login(p *probe, user, password, client string) (error, int, []time.Duration) {
	c, w := p.counts()
	_, err := f.s.Authenticate(context.Background(), user, password, client)
	compares, waits := p.since(c, w)
	return err, compares, waits
}

func TestDelayDoublesToItsCap(t *testing.T) {
	want := []time.Duration{0, 0, 250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second}
	for i, w := range want {
		level := float64(pairThreshold - 1 + i)
		if got := delay(level, pairThreshold); got != w {
			t.Errorf("delay at level %v = %v; want %v", level, got, w)
		}
	}
	// A key's level is capped at threshold+delaySteps: the cap must be
	// where the delay has reached maxDelay, or capping would lower it.
	if got := delay(float64(pairThreshold+delaySteps), pairThreshold); got != maxDelay {
		t.Errorf("delay at the capped level = %v; want maxDelay %v", got, maxDelay)
	}
}

func TestClientOf(t *testing.T) {
	for addr, want := range map[string]string{
		"10.0.0.1:5000":          "10.0.0.1",
		"10.0.0.1":               "10.0.0.1",
		"[::ffff:10.0.0.1]:80":   "10.0.0.1",
		"[2001:db8:1:2::5]:80":   "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::1":   "2001:db8:1:2::/64",
		"[2001:db8:1:3::5]:80":   "2001:db8:1:3::/64",
		"not an address":         "not an address",
		"[fe80::1%eth0]:8080":    "fe80::/64",
		"unix-socket-peer:dummy": "unix-socket-peer",
	} {
		if got := clientOf(addr); got != want {
			t.Errorf("clientOf(%q) = %q; want %q", addr, got, want)
		}
	}
}

// Concurrent guesses for one user at one address are counted before they
// are checked: only the threshold's worth is checked at once, the next
// ones wait for slots one delay apart, and the rest are refused unchecked.
func TestConcurrentGuessesAreCheckedOnePerSlot(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	p := f.probe()
	release := make(chan struct{})
	events := make(chan struct{}, 64)
	var mu sync.Mutex
	var waits []time.Duration
	f.s.sleep = func(ctx context.Context, d time.Duration) error {
		mu.Lock()
		waits = append(waits, d)
		mu.Unlock()
		events <- struct{}{}
		<-release
		return nil
	}
	const n = 20
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			guess := fmt.Sprintf("%s-%d", wrongPassword, i)
			if _, err := f.s.Authenticate(context.Background(), AdminUser, guess, "10.0.1.1:1"); !errors.Is(err, errs.ErrUnauthorized) {
				t.Errorf("wrong password err = %v", err)
			}
			events <- struct{}{}
		}()
	}
	// Every attempt has either finished (checked at once, or refused) or
	// is waiting for its slot.
	for range n {
		<-events
	}
	if compares, _ := p.counts(); compares != pairThreshold {
		t.Errorf("%d passwords checked without delay; want the threshold, %d", compares, pairThreshold)
	}
	mu.Lock()
	got := slices.Sorted(slices.Values(waits))
	mu.Unlock()
	// Each slot is one doubling delay after the previous one; the next
	// would be more than maxWait away.
	want := []time.Duration{250 * time.Millisecond, 750 * time.Millisecond, 1750 * time.Millisecond,
		3750 * time.Millisecond, 7750 * time.Millisecond}
	if !slices.Equal(got, want) {
		t.Errorf("waits = %v; want %v", got, want)
	}
	close(release)
	wg.Wait()
	if compares, _ := p.counts(); compares != pairThreshold+len(want) {
		t.Errorf("%d passwords checked in all; want %d: refused attempts must not be checked", compares, pairThreshold+len(want))
	}
}

// A client's parallel requests with the right password, before its login
// is cached, are one attempt: none is delayed or refused, and the password
// is checked once.
func TestIdenticalLoginsAtOnceShareOneCheck(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	p := f.probe()
	const n = 3 * (pairThreshold + delaySteps)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Each request comes on its own connection.
			if _, err := f.s.Authenticate(context.Background(), AdminUser, f.adminPassword, fmt.Sprintf("10.0.1.1:%d", 1000+i)); err != nil {
				t.Errorf("parallel right password: %v", err)
			}
		}()
	}
	wg.Wait()
	if compares, waits := p.counts(); compares != 1 || waits != 0 {
		t.Errorf("%d parallel identical logins: %d comparisons, %d waits; want 1 and none", n, compares, waits)
	}
}

// A request that joined the check of another one, which then went away,
// checks again rather than fail.
func TestJoinedLoginOutlivesTheRequestItJoined(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	p := f.probe()
	for range pairThreshold {
		f.login(p, AdminUser, wrongPassword, "10.0.1.1:1")
	}
	// The first throttled wait lasts until its request ends; later ones
	// pass at once.
	waiting := make(chan struct{})
	var once sync.Once
	f.s.sleep = func(ctx context.Context, d time.Duration) error {
		first := false
		once.Do(func() { first = true })
		if !first {
			return nil
		}
		close(waiting)
		<-ctx.Done()
		return ctx.Err()
	}
	ctx, cancel := context.WithCancel(context.Background())
	gone := make(chan error, 1)
	go func() {
		_, err := f.s.Authenticate(ctx, AdminUser, f.adminPassword, "10.0.1.1:2")
		gone <- err
	}()
	<-waiting
	joined := make(chan error, 1)
	go func() {
		_, err := f.s.Authenticate(context.Background(), AdminUser, f.adminPassword, "10.0.1.1:3")
		joined <- err
	}()
	runtime.Gosched()
	cancel()
	if err := <-gone; !errors.Is(err, errs.ErrUnauthorized) {
		t.Errorf("login whose request went away: err = %v; want Unauthorized", err)
	}
	if err := <-joined; err != nil {
		t.Errorf("login that joined it: %v; want a success", err)
	}
}

// Wrong passwords delay a user at an address, but the right one still gets
// in, and clears that pair.
func TestRightPasswordWinsAfterWrongOnes(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	p := f.probe()
	for i := range 8 {
		err, compares, waits := f.login(p, AdminUser, wrongPassword, "10.0.1.1:1")
		if !errors.Is(err, errs.ErrUnauthorized) || compares != 1 {
			t.Fatalf("wrong attempt %d: err %v, %d comparisons", i, err, compares)
		}
		if delayed := len(waits) > 0; delayed != (i >= pairThreshold) {
			t.Errorf("wrong attempt %d waited %v; want a wait only past the threshold", i, waits)
		}
	}
	// Another port of the same host is the same client.
	err, compares, waits := f.login(p, AdminUser, f.adminPassword, "10.0.1.1:2")
	if err != nil || compares != 1 {
		t.Fatalf("right password after wrong ones: err %v, %d comparisons", err, compares)
	}
	if len(waits) != 1 || waits[0] <= 0 || waits[0] > maxDelay {
		t.Errorf("right password waited %v; want one wait of at most %v", waits, maxDelay)
	}
	// The success cleared the pair: the next mistake is not delayed.
	if err, _, waits := f.login(p, AdminUser, wrongPassword, "10.0.1.1:1"); !errors.Is(err, errs.ErrUnauthorized) || len(waits) != 0 {
		t.Errorf("wrong password after a success: err %v, waits %v; want no wait", err, waits)
	}
	// A cached success wins at once even while the pair is throttled again.
	for range pairThreshold {
		f.login(p, AdminUser, wrongPassword, "10.0.1.1:1")
	}
	if err, compares, waits := f.login(p, AdminUser, f.adminPassword, "10.0.1.1:1"); err != nil || compares != 0 || len(waits) != 0 {
		t.Errorf("cached right password: err %v, %d comparisons, waits %v; want an immediate success", err, compares, waits)
	}
	// The same user elsewhere is not delayed.
	f.s.logins = loginCache{}
	if err, _, waits := f.login(p, AdminUser, f.adminPassword, "10.0.2.1:1"); err != nil || len(waits) != 0 {
		t.Errorf("admin from another address: err %v, waits %v", err, waits)
	}
}

// Many names sprayed from one address delay that address, but never keep
// out a user who knows their password.
func TestSprayedNamesDoNotLockOutTheirAddress(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.addUser(t, "bob", "bobs-password")
	p := f.probe()
	for i := range clientThreshold + 5 {
		if err, _, _ := f.login(p, fmt.Sprintf("guess%d", i), wrongPassword, "192.0.2.7:4000"); !errors.Is(err, errs.ErrUnauthorized) {
			t.Fatalf("attempt %d err = %v", i, err)
		}
	}
	err, compares, waits := f.login(p, "bob", "bobs-password", "192.0.2.7:4001")
	if err != nil || compares != 1 {
		t.Fatalf("right password from a spraying address: err %v, %d comparisons", err, compares)
	}
	if len(waits) != 1 || waits[0] <= 0 || waits[0] > maxDelay {
		t.Errorf("right password from a spraying address waited %v; want one wait of at most %v", waits, maxDelay)
	}
	if err, _, waits := f.login(p, AdminUser, f.adminPassword, "192.0.2.8:4000"); err != nil || len(waits) != 0 {
		t.Errorf("right password from another address: err %v, waits %v", err, waits)
	}
}

// A user guessed at from many addresses is delayed everywhere, never
// locked out.
func TestUserGuessedFromManyAddressesIsNotLockedOut(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	p := f.probe()
	for i := range userThreshold + 10 {
		addr := fmt.Sprintf("10.1.%d.%d:1", i/200, i%200)
		if err, _, _ := f.login(p, AdminUser, wrongPassword, addr); !errors.Is(err, errs.ErrUnauthorized) {
			t.Fatalf("attempt %d err = %v", i, err)
		}
	}
	err, _, waits := f.login(p, AdminUser, f.adminPassword, "10.9.9.9:1")
	if err != nil {
		t.Fatalf("right password while the user is guessed at: %v", err)
	}
	if len(waits) != 1 || waits[0] <= 0 || waits[0] > maxDelay {
		t.Errorf("right password waited %v; want one wait of at most %v", waits, maxDelay)
	}
}

// An unknown user, a disabled user, a password over bcrypt's 72 bytes and
// a wrong password all cost exactly one comparison at bcryptCost and are
// throttled alike, so that neither time nor throttling tells them apart.
func TestEveryFailedLoginCostsOneComparison(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	// Made at construction: no login pays for making it.
	dummy := f.s.dummyHash
	if cost, err := bcrypt.Cost(dummy); err != nil || cost != bcryptCost {
		t.Fatalf("dummy hash cost = %d, %v; want %d", cost, err, bcryptCost)
	}
	ctx := asSystem
	long := strings.Repeat("p", maxPasswordLen)
	f.addUser(t, "long", long)
	f.addUser(t, "dis", "dis-password")
	if err := f.s.UpdateUser(ctx, &meta.User{ID: "dis", Status: meta.UserDisabled}); err != nil {
		t.Fatal(err)
	}
	p := f.probe()
	for i, tc := range []struct{ name, user, password string }{
		{"unknown user", "nobody", "some-password"},
		{"disabled user, right password", "dis", "dis-password"},
		// bcrypt would see only the first 72 bytes, which are right.
		{"password over 72 bytes", "long", long + "x"},
		{"wrong password", AdminUser, "not-the-password"},
	} {
		client := fmt.Sprintf("10.2.0.%d:1", i)
		for range pairThreshold {
			f.login(p, tc.user, wrongPassword, client)
		}
		c, _ := p.counts()
		err, compares, waits := f.login(p, tc.user, tc.password, client)
		if !errors.Is(err, errs.ErrUnauthorized) {
			t.Errorf("%s: err = %v; want Unauthorized", tc.name, err)
		}
		if compares != 1 {
			t.Errorf("%s: %d bcrypt comparisons; want 1", tc.name, compares)
			continue
		}
		hash := p.hashes[c]
		if cost, err := bcrypt.Cost(hash); err != nil || cost != bcryptCost {
			t.Errorf("%s: compared at cost %d, %v; want %d", tc.name, cost, err, bcryptCost)
		}
		if tc.user == "nobody" && string(hash) != string(dummy) {
			t.Errorf("%s: not compared against the dummy hash made at construction", tc.name)
		}
		if !slices.Equal(waits, []time.Duration{baseDelay}) {
			t.Errorf("%s: waits %v after %d failures; want the first throttled wait %v", tc.name, waits, pairThreshold, baseDelay)
		}
	}
}

// The failure tables stay bounded whatever the names and addresses, and a
// flood of new keys does not wash out a key being throttled.
func TestThrottleMemoryIsBounded(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	p := f.probe()
	for range pairThreshold + 1 {
		f.login(p, AdminUser, wrongPassword, "10.9.9.9:1")
	}
	for i := range 3 * maxTracked {
		f.login(p, fmt.Sprintf("flood%d", i), wrongPassword, fmt.Sprintf("10.%d.%d.%d:1", 100+i>>16, i>>8&255, i&255))
	}
	f.s.throttle.mu.Lock()
	sizes := []int{len(f.s.throttle.pairs.records), len(f.s.throttle.clients.records), len(f.s.throttle.users.records)}
	f.s.throttle.mu.Unlock()
	for i, n := range sizes {
		if n > maxTracked {
			t.Errorf("table %d holds %d keys; want at most %d", i, n, maxTracked)
		}
	}
	if _, _, waits := f.login(p, AdminUser, wrongPassword, "10.9.9.9:1"); len(waits) != 1 {
		t.Errorf("throttled pair after a flood of new keys waited %v; want it still throttled", waits)
	}
}

// Password checks share a semaphore, and one waiting for it gives up with
// its request's context.
func TestPasswordChecksAreBounded(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	if !f.s.hashing.TryAcquire(int64(runtime.GOMAXPROCS(0))) || f.s.hashing.TryAcquire(1) {
		t.Errorf("the check semaphore is not GOMAXPROCS (%d) wide", runtime.GOMAXPROCS(0))
	}
	f.s.hashing = semaphore.NewWeighted(1)
	entered, release := make(chan struct{}), make(chan struct{})
	var mu sync.Mutex
	inside := 0
	f.s.compare = func([]byte, []byte) error {
		mu.Lock()
		inside++
		n := inside
		mu.Unlock()
		if n > 1 {
			t.Error("two password checks at once with a semaphore of one")
			return bcrypt.ErrMismatchedHashAndPassword
		}
		close(entered)
		<-release
		return bcrypt.ErrMismatchedHashAndPassword
	}
	first := make(chan error, 1)
	go func() {
		_, err := f.s.Authenticate(context.Background(), AdminUser, wrongPassword, "10.3.0.1:1")
		first <- err
	}()
	<-entered
	ctx, cancel := context.WithCancel(context.Background())
	second := make(chan error, 1)
	go func() {
		_, err := f.s.Authenticate(ctx, "bob", wrongPassword, "10.3.0.2:1")
		second <- err
	}()
	cancel()
	if err := <-second; !errors.Is(err, errs.ErrUnauthorized) {
		t.Errorf("login whose request ended while waiting: err = %v; want Unauthorized", err)
	}
	close(release)
	if err := <-first; !errors.Is(err, errs.ErrUnauthorized) {
		t.Errorf("first login err = %v", err)
	}
}

// Resolve counts logins against the client address the server recorded
// for the request, not the TCP peer (here every request's peer is the
// same proxy).
func TestResolveThrottlesTheRecordedClient(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	p := f.probe()
	resolve := func(client string) []time.Duration {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.SetBasicAuth(AdminUser, wrongPassword)
		_, w := p.counts()
		if _, err := f.s.Resolve(clientip.With(req, client)); err != nil {
			t.Fatal(err)
		}
		_, waits := p.since(0, w)
		return waits
	}
	for range pairThreshold {
		resolve("203.0.113.1")
	}
	if waits := resolve("203.0.113.1"); len(waits) != 1 {
		t.Errorf("client past the threshold waited %v; want one wait", waits)
	}
	if waits := resolve("203.0.113.2"); len(waits) != 0 {
		t.Errorf("another client behind the same proxy waited %v; want none", waits)
	}
}
