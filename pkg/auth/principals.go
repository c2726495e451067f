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
	m   map[string]cachedPrincipal
}

// cachedPrincipal is a principal and, for a directory user, the
// directory's answer it was built from: it stands while the directory
// answers with that same record (its own cache), so group changes there
// show as soon as the directory sees them.
type cachedPrincipal struct {
	p    *Principal
	from *ExternalUser
}

func (c *principalCache) get(user string, gen uint64) cachedPrincipal {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return cachedPrincipal{}
	}
	return c.m[user]
}

func (c *principalCache) put(user string, gen uint64, e cachedPrincipal) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen || c.m == nil || len(c.m) >= maxCachedPrincipals {
		c.gen, c.m = gen, map[string]cachedPrincipal{}
	}
	c.m[user] = e
}
