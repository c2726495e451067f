package config

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/netip"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/viper"
)

// parser reads and validates values, collecting one error per bad key.
type parser struct {
	v      *viper.Viper
	source map[string]string
	errs   []error
}

// httpURL is an absolute http(s) URL, or "".
func (p *parser) httpURL(key string) string {
	v := p.raw(key)
	if v != "" && !isHTTPURL(v) {
		p.fail(key, v, "must be an absolute http or https URL")
	}
	return v
}

func isHTTPURL(v string) bool {
	u, err := url.Parse(v)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

func (p *parser) raw(key string) string {
	return strings.TrimSpace(p.v.GetString(key))
}

func (p *parser) fail(key, val, why string) {
	p.errs = append(p.errs, fmt.Errorf("config: invalid %s %q (from %s): %s", key, val, p.source[key], why))
}

func (p *parser) host(key string) string {
	val := p.raw(key)
	if strings.ContainsAny(val, " \t/") {
		p.fail(key, val, "must be a host name or IP address")
	}
	return strings.TrimSuffix(strings.TrimPrefix(val, "["), "]")
}

func (p *parser) port(key string) int {
	val := p.raw(key)
	n, err := strconv.Atoi(val)
	if err != nil || n < 1 || n > 65535 {
		p.fail(key, val, "must be an integer from 1 to 65535")
		return 0
	}
	return n
}

// optionalPort is a port, or 0 for none.
func (p *parser) optionalPort(key string) int {
	val := p.raw(key)
	n, err := strconv.Atoi(val)
	if err != nil || n < 0 || n > 65535 {
		p.fail(key, val, "must be an integer from 1 to 65535, or 0 for none")
		return 0
	}
	return n
}

// hostPort is host:port to listen on (the host may be empty, for all
// interfaces), or "" for none.
func (p *parser) hostPort(key string) string {
	val := p.raw(key)
	if val == "" {
		return ""
	}
	_, port, err := net.SplitHostPort(val)
	n, perr := strconv.Atoi(port)
	if err != nil || perr != nil || n < 1 || n > 65535 {
		p.fail(key, val, "must be host:port with a port from 1 to 65535, such as 127.0.0.1:8082, or empty for none")
	}
	return val
}

// files is a comma-separated list of file paths, returned without empty
// items or spaces around them (Config stays comparable with a string).
func (p *parser) files(key string) string {
	return strings.Join(commaList(p.raw(key)), ",")
}

// count is a non-negative integer.
func (p *parser) count(key string) int {
	val := p.raw(key)
	n, err := strconv.Atoi(val)
	if err != nil || n < 0 {
		p.fail(key, val, "must be a whole number, 0 or more")
		return 0
	}
	return n
}

// prefixes is a comma-separated list of IP addresses and CIDR ranges,
// returned normalised (", "-separated, each a CIDR).
func (p *parser) prefixes(key string) string {
	val := p.raw(key)
	list, err := ParsePrefixes(val)
	if err != nil {
		p.fail(key, val, err.Error())
		return ""
	}
	out := make([]string, len(list))
	for i, pfx := range list {
		out[i] = pfx.String()
	}
	return strings.Join(out, ",")
}

// ParsePrefixes reads a comma-separated list of IP addresses and CIDR
// ranges (http.trusted-proxies); an address is a range of one.
func ParsePrefixes(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, item := range commaList(s) {
		if pfx, err := netip.ParsePrefix(item); err == nil {
			out = append(out, pfx.Masked())
			continue
		}
		addr, err := netip.ParseAddr(item)
		if err != nil {
			return nil, fmt.Errorf("%q is neither an IP address nor a CIDR range", item)
		}
		out = append(out, netip.PrefixFrom(addr, addr.BitLen()))
	}
	return out, nil
}

func (p *parser) nonEmpty(key string) string {
	val := p.raw(key)
	if val == "" {
		p.fail(key, val, "must not be empty")
	}
	return val
}

// boolean is true or false (any case).
func (p *parser) boolean(key string) bool {
	val := p.raw(key)
	switch strings.ToLower(val) {
	case "true":
		return true
	case "false":
		return false
	}
	p.fail(key, val, "must be true or false")
	return false
}

func (p *parser) oneOf(key string, allowed map[string]string) string {
	val := p.raw(key)
	norm, ok := allowed[strings.ToLower(val)]
	if !ok {
		var names []string
		for k, n := range allowed {
			if k == n {
				names = append(names, k)
			}
		}
		slices.Sort(names)
		p.fail(key, val, "must be one of "+strings.Join(names, ", "))
	}
	return norm
}

func (p *parser) contextPath(key string) string {
	val := p.raw(key)
	norm, err := NormalizeContextPath(val)
	if err != nil {
		p.fail(key, val, err.Error())
	}
	return norm
}

func (p *parser) size(key string) int64 {
	val := p.raw(key)
	n, err := ParseSize(val)
	if err != nil {
		p.fail(key, val, err.Error())
	}
	return n
}

// nonNegativeDuration is duration that also accepts zero.
func (p *parser) nonNegativeDuration(key string) time.Duration {
	val := p.raw(key)
	d, err := parseDuration(val)
	if err != nil {
		p.fail(key, val, err.Error())
		return 0
	}
	if d < 0 {
		p.fail(key, val, "must not be negative")
	}
	return d
}

func (p *parser) duration(key string) time.Duration {
	return p.positiveDuration(key, p.raw(key))
}

// positiveDuration is val as a duration greater than zero.
func (p *parser) positiveDuration(key, val string) time.Duration {
	d, err := parseDuration(val)
	if err != nil {
		p.fail(key, val, err.Error())
		return 0
	}
	if d <= 0 {
		p.fail(key, val, "must be greater than zero")
	}
	return d
}

// NormalizeContextPath returns p with a leading "/" and without a trailing
// "/" (unless it is exactly "/"). An empty path is "/".
func NormalizeContextPath(p string) (string, error) {
	p = strings.TrimSpace(p)
	if strings.ContainsAny(p, "?#\\ \t") {
		return "", errors.New(`must be a URL path without spaces, '?', '#' or '\'`)
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "." || seg == ".." {
			return "", errors.New("must not contain '.' or '..' segments")
		}
	}
	return path.Clean("/" + p), nil
}

// ParseSize parses a byte size: a plain number of bytes or a number with a
// unit. Decimal units: B, KB, MB, GB, TB (powers of 1000); binary units:
// KiB, MiB, GiB, TiB and the short forms K, M, G, T (powers of 1024).
// Units are case-insensitive and may be separated from the number by spaces.
func ParseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, errors.New("must be a non-negative number of bytes, optionally with a unit such as 512MiB, 10GiB or 100MB")
	}
	n, err := strconv.ParseInt(s[:i], 10, 64)
	if err != nil {
		return 0, errors.New("number too large")
	}
	unit := strings.ToLower(strings.TrimSpace(s[i:]))
	mult, ok := sizeUnits[unit]
	if !ok {
		return 0, fmt.Errorf("unknown size unit %q (use B, KB, MB, GB, TB, KiB, MiB, GiB, TiB)", s[i:])
	}
	if n > math.MaxInt64/mult {
		return 0, errors.New("size too large")
	}
	return n * mult, nil
}

var sizeUnits = map[string]int64{
	"": 1, "b": 1,
	"kb": 1000, "mb": 1000 * 1000, "gb": 1000 * 1000 * 1000, "tb": 1000 * 1000 * 1000 * 1000,
	"k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40,
	"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40,
}

// parseDuration accepts Go durations ("90s", "1m30s") and plain integer
// seconds ("90").
func parseDuration(s string) (time.Duration, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n > int64(math.MaxInt64/time.Second) || n < -int64(math.MaxInt64/time.Second) {
			return 0, errors.New("duration too large")
		}
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, errors.New(`must be a duration such as "60s", "2m" or a number of seconds`)
	}
	return d, nil
}

// commaList is val's comma-separated items, trimmed, without empty ones;
// nil when there is none.
func commaList(val string) []string {
	var out []string
	for _, item := range strings.Split(val, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}
