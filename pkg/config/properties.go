package config

import (
	"fmt"
	"strings"

	"github.com/magiconair/properties"
	"github.com/spf13/viper"
)

// viper 1.20+ no longer ships a Java-properties codec; this registers one
// backed by magiconair/properties, the parser viper itself used before.

type propertiesRegistry struct{}

func (propertiesRegistry) Decoder(format string) (viper.Decoder, error) {
	switch strings.ToLower(format) {
	case "properties", "props", "prop":
		return propertiesDecoder{}, nil
	}
	return nil, fmt.Errorf("config: unsupported config format %q", format)
}

type propertiesDecoder struct{}

// Decode parses Java-properties text into a flat map: dotted keys such as
// "log.level" stay single keys (the viper instance uses a non-dot key
// delimiter). Values are strings with surrounding whitespace removed.
func (propertiesDecoder) Decode(b []byte, v map[string]any) error {
	props, err := parseProperties(string(b))
	if err != nil {
		return err
	}
	for k, val := range props {
		v[k] = val
	}
	return nil
}

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
