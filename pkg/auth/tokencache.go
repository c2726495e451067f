package auth

import (
	"reflect"
	"sync"
)

// tokenCacheSize bounds the verified tokens kept; a full cache starts over.
const tokenCacheSize = 4096

// tokenCache remembers tokens whose signature has been checked, with their
// subject, expiry and decoded data, so that a client sending the same
// token on every request (every Docker client) costs a map lookup rather
// than an HMAC and two JSON decodings. It is keyed by the whole token, so
// a changed byte is another, unverified token; expiry is checked on every
// use.
type tokenCache struct {
	mu    sync.Mutex
	items map[string]verifiedToken
}

type verifiedToken struct {
	subject string
	expires int64
	data    reflect.Value // a pointer to the decoded data; invalid if none
}

func (c *tokenCache) get(token string) (verifiedToken, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.items[token]
	return v, ok
}

func (c *tokenCache) put(token string, v verifiedToken) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.items == nil || len(c.items) >= tokenCacheSize {
		c.items = make(map[string]verifiedToken)
	}
	c.items[token] = v
}

// fill copies the cached data into data, a pointer of the same type; the
// copy is shallow, so callers treat what it points to as read-only.
func (v verifiedToken) fill(data any) bool {
	if data == nil {
		return true
	}
	if !v.data.IsValid() || v.data.Type() != reflect.TypeOf(data) {
		return false
	}
	reflect.ValueOf(data).Elem().Set(v.data.Elem())
	return true
}
