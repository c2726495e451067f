// Package config loads the server configuration.
//
// Settings come, in increasing order of precedence, from built-in defaults,
// the Java-properties file nexus-go.properties, NEXUS_GO_* environment
// variables and command-line flags. The result is a plain Config value that
// callers pass down explicitly; nothing here is global.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/viper"
)

// Config is the complete server configuration.
type Config struct {
	Host                string        // application-host
	Port                int           // application-port
	DataDir             string        // data-dir
	ContextPath         string        // nexus-context-path; "/" or "/x/y" without trailing slash
	LogLevel            string        // log.level: debug|info|warn|error
	LogFormat           string        // log.format: text|json
	MaxUploadSize       int64         // upload.max-size in bytes; 0 = unlimited
	MaxRequestBody      int64         // api.max-body-size in bytes (admin REST JSON bodies); 0 = unlimited
	BlobMinFree         int64         // blobstore.min-free-space in bytes: at or below, the health check reports the store short of space
	ProxyTimeout        time.Duration // proxy.timeout
	ProxyConnectTimeout time.Duration // proxy.connect-timeout
	ReadHeaderTimeout   time.Duration // http.read-header-timeout
	IdleTimeout         time.Duration // http.idle-timeout
	BodyIdleTimeout     time.Duration // http.body-idle-timeout: longest pause inside a request body
	MaxConnections      int           // http.max-connections: open connections per listener; 0 = unlimited
	TrustedProxies      string        // http.trusted-proxies: comma-separated IPs/CIDRs whose X-Forwarded-For is believed
	ShutdownTimeout     time.Duration // shutdown.timeout
	DrainDelay          time.Duration // shutdown.drain-delay: readiness answers 503 this long before the listeners close
	DebugAddr           string        // http.debug.addr: host:port of the debug listener (/metrics, /debug/pprof/); "" = none
	MaintenanceInterval time.Duration // maintenance.interval: how often housekeeping runs
	UploadPurgeAge      time.Duration // upload.purge-age: unfinished resumable uploads older than this are deleted
	DockerGCGrace       time.Duration // docker.gc-grace: unreferenced layers younger than this are kept
	DockerTLSCert       string        // docker.tls-certificate: PEM certificate for Docker HTTPS connectors
	DockerTLSKey        string        // docker.tls-key: PEM key for Docker HTTPS connectors
	SSLPort             int           // application-port-ssl: HTTPS main port; 0 = none
	SSLCert             string        // ssl.certificate: PEM certificate of the HTTPS main port
	SSLKey              string        // ssl.key: PEM key of the HTTPS main port
	SSLClientCAs        string        // ssl.client-cas: comma-separated PEM files; set = client certificates required
	MavenCentralURL     string        // maven.central-url: remote of the maven-central proxy a first start creates; "" = none
	UISessionTimeout    time.Duration // ui.session-timeout: a web UI session unused this long ends
	ScriptsAllowCreate  bool          // scripts.allow-creation: the script API may store scripts (Nexus's nexus.scripts.allowCreation)
	WebhookMaxAge       time.Duration // webhooks.max-age: an event not delivered this long after its change is dropped
	AuditEnabled        bool          // audit.enabled: record the audit log (database and log/audit.log)
	AuditMaxAge         time.Duration // audit.max-age: audit records older than this are deleted from the database
	AuditMaxFileSize    int64         // audit.max-file-size in bytes: log/audit.log is rotated at this size; 0 = never
	AuditMaxFiles       int           // audit.max-files: rotated audit.log files kept
	// NotificationEndpoints are notifications.endpoints.<name>.* of the
	// properties file, sorted by name.
	NotificationEndpoints []NotificationEndpoint
}

// Flags carries command-line overrides; zero values mean "not given".
type Flags struct {
	ConfigFile string
	DataDir    string
	Port       int
}

// FileName is the name of the configuration file looked for by default.
const FileName = "nexus-go.properties"

// EnvPrefix is the prefix of environment variables that override settings.
const EnvPrefix = "NEXUS_GO_"

// Keys, as written in the properties file.
const (
	keyHost                = "application-host"
	keyPort                = "application-port"
	keyDataDir             = "data-dir"
	keyContextPath         = "nexus-context-path"
	keyLogLevel            = "log.level"
	keyLogFormat           = "log.format"
	keyMaxUploadSize       = "upload.max-size"
	keyMaxRequestBody      = "api.max-body-size"
	keyBlobMinFree         = "blobstore.min-free-space"
	keyProxyTimeout        = "proxy.timeout"
	keyProxyConnectTimeout = "proxy.connect-timeout"
	keyReadHeaderTimeout   = "http.read-header-timeout"
	keyIdleTimeout         = "http.idle-timeout"
	keyBodyIdleTimeout     = "http.body-idle-timeout"
	keyMaxConnections      = "http.max-connections"
	keyTrustedProxies      = "http.trusted-proxies"
	keyShutdownTimeout     = "shutdown.timeout"
	keyDrainDelay          = "shutdown.drain-delay"
	keyDebugAddr           = "http.debug.addr"
	keyMaintenance         = "maintenance.interval"
	keyUploadPurgeAge      = "upload.purge-age"
	keyDockerGCGrace       = "docker.gc-grace"
	keyDockerTLSCert       = "docker.tls-certificate"
	keyDockerTLSKey        = "docker.tls-key"
	keySSLPort             = "application-port-ssl"
	keySSLCert             = "ssl.certificate"
	keySSLKey              = "ssl.key"
	keySSLClientCAs        = "ssl.client-cas"
	keyMavenCentralURL     = "maven.central-url"
	keyUISessionTimeout    = "ui.session-timeout"
	keyScriptsAllowCreate  = "scripts.allow-creation"
	keyWebhookMaxAge       = "webhooks.max-age"
	keyAuditEnabled        = "audit.enabled"
	keyAuditMaxAge         = "audit.max-age"
	keyAuditMaxFileSize    = "audit.max-file-size"
	keyAuditMaxFiles       = "audit.max-files"
)

// setting describes one key; the table is the single source for defaults
// and is checked against the example file and the docs by the tests.
type setting struct {
	key string
	def string
}

var settings = []setting{
	{keyHost, "0.0.0.0"},
	{keyPort, "8081"},
	{keyDataDir, "./nexus-data"},
	{keyContextPath, "/"},
	{keyLogLevel, "info"},
	{keyLogFormat, "text"},
	{keyMaxUploadSize, "10GiB"},
	{keyMaxRequestBody, "1MiB"},
	{keyBlobMinFree, "1GiB"},
	{keyProxyTimeout, "60s"},
	{keyProxyConnectTimeout, "10s"},
	{keyReadHeaderTimeout, "10s"},
	{keyIdleTimeout, "120s"},
	{keyBodyIdleTimeout, "60s"},
	{keyMaxConnections, "1024"},
	{keyTrustedProxies, ""},
	{keyShutdownTimeout, "30s"},
	{keyDrainDelay, "0s"},
	{keyDebugAddr, ""},
	{keyMaintenance, "10m"},
	{keyUploadPurgeAge, "24h"},
	{keyDockerGCGrace, "1h"},
	{keyDockerTLSCert, ""},
	{keyDockerTLSKey, ""},
	{keySSLPort, "0"},
	{keySSLCert, ""},
	{keySSLKey, ""},
	{keySSLClientCAs, ""},
	{keyMavenCentralURL, ""},
	{keyUISessionTimeout, "30m"},
	{keyScriptsAllowCreate, "false"},
	{keyWebhookMaxAge, "72h"},
	{keyAuditEnabled, "true"},
	{keyAuditMaxAge, "720h"},
	{keyAuditMaxFileSize, "100MiB"},
	{keyAuditMaxFiles, "10"},
}

// keyDelim is viper's key delimiter; it must not occur in any key so that
// dotted keys like "log.level" stay flat instead of being nested.
const keyDelim = "::"

// EnvVar returns the environment variable that overrides key:
// NEXUS_GO_ + key upper-cased with '-' and '.' replaced by '_'.
func EnvVar(key string) string {
	return EnvPrefix + strings.NewReplacer("-", "_", ".", "_").Replace(strings.ToUpper(key))
}

// Load builds the configuration: defaults, then the properties file
// (flags.ConfigFile if given, which must exist; otherwise
// <data-dir>/etc/nexus-go.properties, otherwise ./nexus-go.properties, if
// either exists), then NEXUS_GO_* variables from environ (in os.Environ
// form), then flags. It validates the result and names the offending key
// and its source in any error.
func Load(flags Flags, environ []string) (Config, error) {
	v := viper.NewWithOptions(
		viper.KeyDelimiter(keyDelim),
		viper.WithDecoderRegistry(propertiesRegistry{}),
	)
	v.SetConfigType("properties")

	source := make(map[string]string, len(settings))
	for _, s := range settings {
		v.SetDefault(s.key, s.def)
		source[s.key] = "default"
	}

	env := envOverrides(environ)

	// The file location may depend on the data directory, which itself
	// may come from the flags or the environment (not from the file).
	file, err := findConfigFile(flags, env)
	if err != nil {
		return Config{}, err
	}
	// The file's entries as written: viper lower-cases keys, and the
	// notification endpoints' names and header names keep their case.
	var props map[string]string
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return Config{}, fmt.Errorf("config: %w", err)
		}
		if err := v.ReadConfig(bytes.NewReader(data)); err != nil {
			return Config{}, fmt.Errorf("config: reading %s: %w", file, err)
		}
		if props, err = parseProperties(string(data)); err != nil {
			return Config{}, fmt.Errorf("config: reading %s: %w", file, err)
		}
		for _, s := range settings {
			if v.InConfig(s.key) {
				source[s.key] = file
			}
		}
	}

	for _, s := range settings {
		if val, ok := env[s.key]; ok {
			v.Set(s.key, val)
			source[s.key] = "environment variable " + EnvVar(s.key)
		}
	}

	if flags.DataDir != "" {
		v.Set(keyDataDir, flags.DataDir)
		source[keyDataDir] = "flag --data-dir"
	}
	if flags.Port != 0 {
		v.Set(keyPort, strconv.Itoa(flags.Port))
		source[keyPort] = "flag --port"
	}

	p := parser{v: v, source: source}
	c := Config{
		Host:                p.host(keyHost),
		Port:                p.port(keyPort),
		DataDir:             p.nonEmpty(keyDataDir),
		ContextPath:         p.contextPath(keyContextPath),
		LogLevel:            p.oneOf(keyLogLevel, map[string]string{"debug": "debug", "info": "info", "warn": "warn", "warning": "warn", "error": "error"}),
		LogFormat:           p.oneOf(keyLogFormat, map[string]string{"text": "text", "json": "json"}),
		MaxUploadSize:       p.size(keyMaxUploadSize),
		MaxRequestBody:      p.size(keyMaxRequestBody),
		BlobMinFree:         p.size(keyBlobMinFree),
		ProxyTimeout:        p.duration(keyProxyTimeout),
		ProxyConnectTimeout: p.duration(keyProxyConnectTimeout),
		ReadHeaderTimeout:   p.duration(keyReadHeaderTimeout),
		IdleTimeout:         p.duration(keyIdleTimeout),
		BodyIdleTimeout:     p.duration(keyBodyIdleTimeout),
		MaxConnections:      p.count(keyMaxConnections),
		TrustedProxies:      p.prefixes(keyTrustedProxies),
		ShutdownTimeout:     p.duration(keyShutdownTimeout),
		DrainDelay:          p.nonNegativeDuration(keyDrainDelay),
		DebugAddr:           p.hostPort(keyDebugAddr),
		MaintenanceInterval: p.duration(keyMaintenance),
		UploadPurgeAge:      p.duration(keyUploadPurgeAge),
		DockerGCGrace:       p.nonNegativeDuration(keyDockerGCGrace),
		DockerTLSCert:       p.raw(keyDockerTLSCert),
		DockerTLSKey:        p.raw(keyDockerTLSKey),
		SSLPort:             p.optionalPort(keySSLPort),
		SSLCert:             p.raw(keySSLCert),
		SSLKey:              p.raw(keySSLKey),
		SSLClientCAs:        p.files(keySSLClientCAs),
		MavenCentralURL:     p.httpURL(keyMavenCentralURL),
		UISessionTimeout:    p.duration(keyUISessionTimeout),
		ScriptsAllowCreate:  p.boolean(keyScriptsAllowCreate),
		WebhookMaxAge:       p.duration(keyWebhookMaxAge),
		AuditEnabled:        p.boolean(keyAuditEnabled),
		AuditMaxAge:         p.duration(keyAuditMaxAge),
		AuditMaxFileSize:    p.size(keyAuditMaxFileSize),
		AuditMaxFiles:       p.count(keyAuditMaxFiles),

		NotificationEndpoints: p.notificationEndpoints(props, file),
	}
	if (c.DockerTLSCert == "") != (c.DockerTLSKey == "") {
		p.fail(keyDockerTLSKey, c.DockerTLSKey, "docker.tls-certificate and docker.tls-key must be set together")
	}
	if (c.SSLCert == "") != (c.SSLKey == "") {
		p.fail(keySSLKey, c.SSLKey, "ssl.certificate and ssl.key must be set together")
	}
	if c.SSLPort != 0 && c.SSLCert == "" {
		p.fail(keySSLPort, strconv.Itoa(c.SSLPort), "an HTTPS port needs ssl.certificate and ssl.key")
	}
	if c.SSLPort != 0 && c.SSLPort == c.Port {
		p.fail(keySSLPort, strconv.Itoa(c.SSLPort), "must differ from application-port")
	}
	if c.SSLClientCAs != "" && c.SSLPort == 0 && c.DockerTLSCert == "" {
		p.fail(keySSLClientCAs, c.SSLClientCAs, "no HTTPS listener would use it (set application-port-ssl or docker.tls-certificate)")
	}
	if len(p.errs) > 0 {
		return Config{}, errors.Join(p.errs...)
	}
	return c, nil
}

// Addr returns host:port for net.Listen.
func (c Config) Addr() string {
	return net.JoinHostPort(c.Host, strconv.Itoa(c.Port))
}

// SSLAddr returns host:port of the HTTPS main port for net.Listen.
func (c Config) SSLAddr() string {
	return net.JoinHostPort(c.Host, strconv.Itoa(c.SSLPort))
}

// ClientCAFiles returns the files of ssl.client-cas, none if unset.
func (c Config) ClientCAFiles() []string {
	if c.SSLClientCAs == "" {
		return nil
	}
	return strings.Split(c.SSLClientCAs, ",")
}

// envOverrides picks the values of known NEXUS_GO_* variables out of
// environ, keyed by setting key. Empty values count as unset. If a
// variable occurs more than once the last occurrence wins, as with getenv.
func envOverrides(environ []string) map[string]string {
	byVar := make(map[string]string, len(settings))
	for _, s := range settings {
		byVar[EnvVar(s.key)] = s.key
	}
	out := make(map[string]string)
	for _, kv := range environ {
		name, val, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(name, EnvPrefix) {
			continue
		}
		key, known := byVar[name]
		if !known {
			continue
		}
		if val == "" {
			delete(out, key)
			continue
		}
		out[key] = val
	}
	return out
}

func findConfigFile(flags Flags, env map[string]string) (string, error) {
	if flags.ConfigFile != "" {
		st, err := os.Stat(flags.ConfigFile)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return "", fmt.Errorf("config: config file %s does not exist", flags.ConfigFile)
			}
			return "", fmt.Errorf("config: config file: %w", err)
		}
		if st.IsDir() {
			return "", fmt.Errorf("config: config file %s is a directory", flags.ConfigFile)
		}
		return flags.ConfigFile, nil
	}
	dataDir := defaultOf(keyDataDir)
	if d, ok := env[keyDataDir]; ok {
		dataDir = d
	}
	if flags.DataDir != "" {
		dataDir = flags.DataDir
	}
	for _, candidate := range []string{
		filepath.Join(dataDir, "etc", FileName),
		FileName,
	} {
		st, err := os.Stat(candidate)
		if err == nil && !st.IsDir() {
			return candidate, nil
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("config: config file: %w", err)
		}
	}
	return "", nil
}

func defaultOf(key string) string {
	for _, s := range settings {
		if s.key == key {
			return s.def
		}
	}
	return ""
}

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
	var out []string
	for _, f := range strings.Split(p.raw(key), ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return strings.Join(out, ",")
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
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
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
