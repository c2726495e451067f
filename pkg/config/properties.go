package config

import (
	"fmt"
	"strings"

	"github.com/magiconair/properties"
)

// parseProperties reads java.util.Properties text; ${...} is not expanded,
// since Java does not expand it either.
func parseProperties(text string) (map[string]string, error) {
	l := &properties.Loader{Encoding: properties.UTF8, DisableExpansion: true}
	p, err := l.LoadBytes([]byte(strings.TrimPrefix(text, "\ufeff")))
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	out := make(map[string]string, p.Len())
	for _, k := range p.Keys() {
		val, _ := p.Get(k)
		out[k] = strings.TrimSpace(val)
	}
	return out, nil
}
