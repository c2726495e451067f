package config

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/viper"
)

// viper 1.20+ no longer ships a Java-properties codec, so this package
// registers its own decoder for the "properties" config type.

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

// propEntry is one key=value pair with the line it started on.
type propEntry struct {
	key, value string
	line       int
}

// parseProperties implements the java.util.Properties line format: '#' and
// '!' comments, key/value separated by '=', ':' or whitespace, backslash
// line continuation and the escapes \t \n \r \f \uXXXX and \<char>.
// Later duplicates win, as in Java.
func parseProperties(text string) (map[string]string, error) {
	entries, err := parsePropertyEntries(text)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(entries))
	for _, e := range entries {
		out[e.key] = e.value
	}
	return out, nil
}

func parsePropertyEntries(text string) ([]propEntry, error) {
	text = strings.TrimPrefix(text, "\ufeff")
	text = strings.ReplaceAll(text, "\r\n", "\n")
	text = strings.ReplaceAll(text, "\r", "\n")
	lines := strings.Split(text, "\n")

	var entries []propEntry
	for i := 0; i < len(lines); i++ {
		start := i + 1
		line := strings.TrimLeft(lines[i], " \t\f")
		if line == "" || line[0] == '#' || line[0] == '!' {
			continue
		}
		// Join continuation lines: an odd number of trailing backslashes.
		for endsWithContinuation(line) && i+1 < len(lines) {
			i++
			line = line[:len(line)-1] + strings.TrimLeft(lines[i], " \t\f")
		}
		if endsWithContinuation(line) { // continuation at end of file
			line = line[:len(line)-1]
		}

		rawKey, rawValue := splitKeyValue(line)
		key, err := unescapeProperty(rawKey)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", start, err)
		}
		value, err := unescapeProperty(rawValue)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", start, err)
		}
		entries = append(entries, propEntry{key: key, value: strings.TrimSpace(value), line: start})
	}
	return entries, nil
}

func endsWithContinuation(s string) bool {
	n := 0
	for i := len(s) - 1; i >= 0 && s[i] == '\\'; i-- {
		n++
	}
	return n%2 == 1
}

// splitKeyValue splits at the first unescaped '=', ':' or whitespace; a
// whitespace separator may be followed by one '=' or ':'.
func splitKeyValue(line string) (key, value string) {
	i := 0
	for i < len(line) {
		c := line[i]
		if c == '\\' {
			i += 2
			continue
		}
		if c == '=' || c == ':' || c == ' ' || c == '\t' || c == '\f' {
			break
		}
		i++
	}
	if i >= len(line) {
		return line, ""
	}
	key = line[:i]
	rest := line[i:]
	rest = strings.TrimLeft(rest, " \t\f")
	if rest != "" && (rest[0] == '=' || rest[0] == ':') && (line[i] == ' ' || line[i] == '\t' || line[i] == '\f' || line[i] == rest[0]) {
		rest = strings.TrimLeft(rest[1:], " \t\f")
	}
	return key, rest
}

func unescapeProperty(s string) (string, error) {
	if !strings.Contains(s, `\`) {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		i++
		if i >= len(s) {
			break
		}
		switch s[i] {
		case 't':
			b.WriteByte('\t')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 'f':
			b.WriteByte('\f')
		case 'u':
			if len(s)-i-1 < 4 {
				return "", fmt.Errorf("malformed \\u escape in %q", s)
			}
			r, err := strconv.ParseUint(s[i+1:i+5], 16, 32)
			if err != nil {
				return "", fmt.Errorf("malformed \\u escape in %q", s)
			}
			b.WriteRune(rune(r))
			i += 4
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String(), nil
}
