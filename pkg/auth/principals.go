package auth

import "sync"

// maxCachedPrincipals bounds the PrincipalOf cache; it is emptied when full.
const maxCachedPrincipals = 4096

// principalCache remembers resolved principals for one security
// generation: any change to a user, role or setting moves the generation
// on, so a disabled user or a revoked role is seen by the next request.
type principalCache struct {
	mu  sync.Mutex
	gen uint64
	m   map[string]*Principal
}

func (c *principalCache) get(user string, gen uint64) *Principal {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return nil
	}
	return c.m[user]
}

func (c *principalCache) put(user string, gen uint64, p *Principal) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen || c.m == nil || len(c.m) >= maxCachedPrincipals {
		c.gen, c.m = gen, map[string]*Principal{}
	}
	c.m[user] = p
}
