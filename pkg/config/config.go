// Package config loads the server configuration.
//
// Settings come, in increasing order of precedence, from built-in defaults,
// the Java-properties file nexus-go.properties, NEXUS_GO_* environment
// variables and command-line flags. The result is a plain Config value that
// callers pass down explicitly; nothing here is global.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
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
	v := viper.NewWithOptions(viper.KeyDelimiter(keyDelim))

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
	// The file's entries as written, parsed once: viper lower-cases the
	// keys it is given, and the notification endpoints' names and header
	// names keep their case.
	var props map[string]string
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return Config{}, fmt.Errorf("config: %w", err)
		}
		if props, err = parseProperties(string(data)); err != nil {
			return Config{}, fmt.Errorf("config: reading %s: %w", file, err)
		}
		entries := make(map[string]any, len(props))
		for k, val := range props {
			entries[k] = val
		}
		if err := v.MergeConfigMap(entries); err != nil {
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
