package npm

import (
	"bytes"
	"encoding/json"
	"errors"
)

// Packuments reach tens of MB and carry fields nobody here knows
// (provenance, publisher data, whatever a registry adds next), which must
// stay verbatim and in order. So they are handled as ordered objects of raw
// values, split by a small scanner instead of decoded into maps: a rewrite
// touches only the bytes it changes.

// member is one field of a JSON object, its value as raw JSON.
type member struct {
	Key string
	Val json.RawMessage
}

// object is a JSON object in its original field order.
type object []member

var errNotObject = errors.New("not a JSON object")

// parseObject splits b, which must be a valid JSON object, into its
// fields. The values alias b.
func parseObject(b []byte) (object, error) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return nil, errNotObject
	}
	var out object
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		if skipSpace(b, i+1) != len(b) {
			return nil, errNotObject
		}
		return object{}, nil
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return nil, errNotObject
		}
		end, err := skipString(b, i)
		if err != nil {
			return nil, err
		}
		key, err := decodeKey(b[i:end])
		if err != nil {
			return nil, err
		}
		i = skipSpace(b, end)
		if i >= len(b) || b[i] != ':' {
			return nil, errNotObject
		}
		start := skipSpace(b, i+1)
		vend, err := skipValue(b, start)
		if err != nil {
			return nil, err
		}
		out = append(out, member{Key: key, Val: b[start:vend:vend]})
		i = skipSpace(b, vend)
		if i >= len(b) {
			return nil, errNotObject
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			if skipSpace(b, i+1) != len(b) {
				return nil, errNotObject
			}
			return out, nil
		default:
			return nil, errNotObject
		}
	}
}

// parseValidObject is parseObject of bytes not yet known to be JSON.
func parseValidObject(b []byte) (object, error) {
	if !json.Valid(b) {
		return nil, errors.New("malformed JSON")
	}
	return parseObject(b)
}

func decodeKey(raw []byte) (string, error) {
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw[1 : len(raw)-1]), nil
	}
	var s string
	err := json.Unmarshal(raw, &s)
	return s, err
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the string starting at b[i] ('"').
func skipString(b []byte, i int) (int, error) {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1, nil
		}
	}
	return 0, errNotObject
}

// skipValue returns the index after the value starting at b[i].
func skipValue(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, errNotObject
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end, err := skipString(b, j)
				if err != nil {
					return 0, err
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, nil
				}
			}
		}
		return 0, errNotObject
	}
	j := i
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\n' && b[j] != '\r' && b[j] != '\t' {
		j++
	}
	if j == i {
		return 0, errNotObject
	}
	return j, nil
}

// get returns the value of key, or nil.
func (o object) get(key string) json.RawMessage {
	for _, m := range o {
		if m.Key == key {
			return m.Val
		}
	}
	return nil
}

// set replaces the value of key, or appends the field.
func (o *object) set(key string, val json.RawMessage) {
	for i := range *o {
		if (*o)[i].Key == key {
			(*o)[i].Val = val
			return
		}
	}
	*o = append(*o, member{key, val})
}

// del removes key.
func (o *object) del(key string) {
	for i := range *o {
		if (*o)[i].Key == key {
			*o = append((*o)[:i:i], (*o)[i+1:]...)
			return
		}
	}
}

// keys lists the field names in order.
func (o object) keys() []string {
	out := make([]string, len(o))
	for i, m := range o {
		out[i] = m.Key
	}
	return out
}

// size is the length of o's encoding, for sizing buffers.
func (o object) size() int {
	n := 2
	for _, m := range o {
		n += len(m.Key) + len(m.Val) + 4
	}
	return n
}

// appendTo appends o's encoding to buf.
func (o object) appendTo(buf []byte) []byte {
	buf = append(buf, '{')
	for i, m := range o {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendString(buf, m.Key)
		buf = append(buf, ':')
		buf = append(buf, m.Val...)
	}
	return append(buf, '}')
}

// marshal encodes o.
func (o object) marshal() json.RawMessage { return o.appendTo(make([]byte, 0, o.size())) }

// appendString appends s as a JSON string (without HTML escaping, as npm's
// registry writes).
func appendString(buf []byte, s string) []byte {
	if needsEscape(s) {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		enc.Encode(s)
		return append(buf, bytes.TrimRight(b.Bytes(), "\n")...)
	}
	buf = append(buf, '"')
	buf = append(buf, s...)
	return append(buf, '"')
}

func needsEscape(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x80 {
			return true
		}
	}
	return false
}

// jsonString encodes s as a raw JSON string value.
func jsonString(s string) json.RawMessage { return appendString(nil, s) }

// stringOf decodes a raw JSON string value; "" if it is none.
func stringOf(raw json.RawMessage) string {
	if len(raw) < 2 || raw[0] != '"' {
		return ""
	}
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw[1 : len(raw)-1])
	}
	var s string
	json.Unmarshal(raw, &s)
	return s
}

// objectOf splits a raw value known to be valid JSON into an object; nil
// when it is no object.
func objectOf(raw json.RawMessage) object {
	if len(raw) == 0 || raw[0] != '{' {
		return nil
	}
	o, err := parseObject(raw)
	if err != nil {
		return nil
	}
	return o
}
