package repo

import (
	"encoding/json"
	"sync"
)

// SectionCache decodes one format section of repository configurations
// (the "maven" or "npm" object) once per distinct section: formats read
// theirs on every request, and configurations change rarely.
type SectionCache[T any] struct {
	// Key is the section's name in the configuration.
	Key string
	// Default is what an absent section or field decodes to.
	Default T

	mu      sync.RWMutex
	decoded map[string]T
}

// maxSections bounds the decoded sections kept; past it the cache starts
// over (configurations changing that often are not worth keeping).
const maxSections = 1024

// Of returns cfg's section decoded over Default. A malformed section
// decodes as far as it goes: Validate refused it when it was stored.
func (c *SectionCache[T]) Of(cfg Config) T {
	raw := cfg.Sections[c.Key]
	c.mu.RLock()
	v, ok := c.decoded[string(raw)]
	c.mu.RUnlock()
	if ok {
		return v
	}
	v = c.Default
	if raw != nil {
		json.Unmarshal(raw, &v)
	}
	c.mu.Lock()
	if c.decoded == nil || len(c.decoded) >= maxSections {
		c.decoded = map[string]T{}
	}
	c.decoded[string(raw)] = v
	c.mu.Unlock()
	return v
}
