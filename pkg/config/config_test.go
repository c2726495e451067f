package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func defaults() Config {
	return Config{
		Host:                "0.0.0.0",
		Port:                8081,
		DataDir:             "./nexus-data",
		ContextPath:         "/",
		LogLevel:            "info",
		LogFormat:           "text",
		MaxUploadSize:       10737418240,
		MaxRequestBody:      1 << 20,
		BlobMinFree:         1 << 30,
		ProxyTimeout:        60 * time.Second,
		ProxyConnectTimeout: 10 * time.Second,
		ReadHeaderTimeout:   10 * time.Second,
		IdleTimeout:         120 * time.Second,
		BodyIdleTimeout:     60 * time.Second,
		MaxConnections:      1024,
		ShutdownTimeout:     30 * time.Second,
		MaintenanceInterval: 10 * time.Minute,
		UploadPurgeAge:      24 * time.Hour,
		DockerGCGrace:       time.Hour,
		UISessionTimeout:    30 * time.Minute,
		WebhookMaxAge:       72 * time.Hour,
		AuditEnabled:        true,
		AuditMaxAge:         30 * 24 * time.Hour,
		AuditMaxFileSize:    100 << 20,
		AuditMaxFiles:       10,
	}
}

// isolate runs the test in an empty working directory so that no stray
// ./nexus-go.properties or ./nexus-data/etc/nexus-go.properties is found.
func isolate(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Chdir(dir)
	return dir
}

func writeFile(t *testing.T, path, content string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestDefaults(t *testing.T) {
	isolate(t)
	got, err := Load(Flags{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := defaults(); !reflect.DeepEqual(got, want) {
		t.Errorf("Load() = %+v\nwant %+v", got, want)
	}
	if got.Addr() != "0.0.0.0:8081" {
		t.Errorf("Addr() = %q", got.Addr())
	}
}

func TestPrecedence(t *testing.T) {
	const file = `
# a comment
! another comment
application-host = 127.0.0.1
application-port=9000
data-dir: /srv/from-file
nexus-context-path /repo/
log.level=debug
log.format=json
upload.max-size=512MiB
api.max-body-size=2048
proxy.timeout=90
proxy.connect-timeout=5s
http.read-header-timeout=1m
http.idle-timeout=300
shutdown.timeout=45s
`
	fromFile := Config{
		Host:                "127.0.0.1",
		Port:                9000,
		DataDir:             "/srv/from-file",
		ContextPath:         "/repo",
		LogLevel:            "debug",
		LogFormat:           "json",
		MaxUploadSize:       512 << 20,
		MaxRequestBody:      2048,
		BlobMinFree:         1 << 30,
		ProxyTimeout:        90 * time.Second,
		ProxyConnectTimeout: 5 * time.Second,
		ReadHeaderTimeout:   time.Minute,
		IdleTimeout:         300 * time.Second,
		BodyIdleTimeout:     60 * time.Second,
		MaxConnections:      1024,
		ShutdownTimeout:     45 * time.Second,
		MaintenanceInterval: 10 * time.Minute,
		UploadPurgeAge:      24 * time.Hour,
		DockerGCGrace:       time.Hour,
		UISessionTimeout:    30 * time.Minute,
		WebhookMaxAge:       72 * time.Hour,
		AuditEnabled:        true,
		AuditMaxAge:         30 * 24 * time.Hour,
		AuditMaxFileSize:    100 << 20,
		AuditMaxFiles:       10,
	}

	tests := []struct {
		name   string
		file   string // written to <tmp>/custom.properties and passed as --config
		env    []string
		flags  Flags
		mutate func(*Config) // applied to the expectation
		base   Config
	}{
		{
			name: "file overrides defaults",
			file: file,
			base: fromFile,
		},
		{
			name: "partial file keeps other defaults",
			file: "application-port=1234\nlog.level=warn\n",
			base: defaults(),
			mutate: func(c *Config) {
				c.Port = 1234
				c.LogLevel = "warn"
			},
		},
		{
			name: "env overrides file",
			file: file,
			env: []string{
				"PATH=/usr/bin",
				"NEXUS_GO_APPLICATION_PORT=9100",
				"NEXUS_GO_LOG_LEVEL=error",
				"NEXUS_GO_DATA_DIR=/srv/from-env",
				"NEXUS_GO_NEXUS_CONTEXT_PATH=nexus",
				"NEXUS_GO_UPLOAD_MAX_SIZE=1GiB",
				"NEXUS_GO_PROXY_CONNECT_TIMEOUT=3",
				"NEXUS_GO_UNKNOWN=ignored",
				"NEXUS_GO_APPLICATION_HOST=", // empty counts as unset
			},
			base: fromFile,
			mutate: func(c *Config) {
				c.Port = 9100
				c.LogLevel = "error"
				c.DataDir = "/srv/from-env"
				c.ContextPath = "/nexus"
				c.MaxUploadSize = 1 << 30
				c.ProxyConnectTimeout = 3 * time.Second
			},
		},
		{
			name:  "flags override env",
			file:  file,
			env:   []string{"NEXUS_GO_APPLICATION_PORT=9100", "NEXUS_GO_DATA_DIR=/srv/from-env"},
			flags: Flags{Port: 9200, DataDir: "/srv/from-flag"},
			base:  fromFile,
			mutate: func(c *Config) {
				c.Port = 9200
				c.DataDir = "/srv/from-flag"
			},
		},
		{
			name:  "flags override defaults without file",
			flags: Flags{Port: 1},
			base:  defaults(),
			mutate: func(c *Config) {
				c.Port = 1
			},
		},
		{
			name: "env overrides defaults without file",
			env: []string{"NEXUS_GO_LOG_FORMAT=JSON", "NEXUS_GO_HTTP_IDLE_TIMEOUT=2m",
				"NEXUS_GO_HTTP_DEBUG_ADDR=127.0.0.1:8082", "NEXUS_GO_SHUTDOWN_DRAIN_DELAY=10s"},
			base: defaults(),
			mutate: func(c *Config) {
				c.LogFormat = "json"
				c.IdleTimeout = 2 * time.Minute
				c.DebugAddr = "127.0.0.1:8082"
				c.DrainDelay = 10 * time.Second
			},
		},
		{
			name: "last env occurrence wins",
			env:  []string{"NEXUS_GO_APPLICATION_PORT=1111", "NEXUS_GO_APPLICATION_PORT=2222"},
			base: defaults(),
			mutate: func(c *Config) {
				c.Port = 2222
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := isolate(t)
			flags := tt.flags
			if tt.file != "" {
				flags.ConfigFile = writeFile(t, filepath.Join(dir, "custom.properties"), tt.file)
			}
			got, err := Load(flags, tt.env)
			if err != nil {
				t.Fatal(err)
			}
			want := tt.base
			if tt.mutate != nil {
				tt.mutate(&want)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Load() = %+v\nwant   %+v", got, want)
			}
		})
	}
}

func TestFileLocation(t *testing.T) {
	tests := []struct {
		name     string
		files    map[string]string // relative to the working directory
		env      []string
		flags    func(dir string) Flags
		wantPort int
	}{
		{
			name:     "no file",
			wantPort: 8081,
		},
		{
			name:     "./nexus-go.properties",
			files:    map[string]string{"nexus-go.properties": "application-port=1001"},
			wantPort: 1001,
		},
		{
			name:     "default data-dir etc",
			files:    map[string]string{"nexus-data/etc/nexus-go.properties": "application-port=1002"},
			wantPort: 1002,
		},
		{
			name: "data-dir etc wins over ./",
			files: map[string]string{
				"nexus-go.properties":                "application-port=1001",
				"nexus-data/etc/nexus-go.properties": "application-port=1002",
			},
			wantPort: 1002,
		},
		{
			name: "data-dir from flag",
			files: map[string]string{
				"nexus-go.properties":           "application-port=1001",
				"other/etc/nexus-go.properties": "application-port=1003",
			},
			flags:    func(dir string) Flags { return Flags{DataDir: filepath.Join(dir, "other")} },
			wantPort: 1003,
		},
		{
			name: "data-dir from env",
			files: map[string]string{
				"nexus-go.properties":           "application-port=1001",
				"other/etc/nexus-go.properties": "application-port=1003",
			},
			env:      []string{"NEXUS_GO_DATA_DIR=other"},
			wantPort: 1003,
		},
		{
			name: "explicit file wins over both",
			files: map[string]string{
				"nexus-go.properties":                "application-port=1001",
				"nexus-data/etc/nexus-go.properties": "application-port=1002",
				"explicit.properties":                "application-port=1004",
			},
			flags:    func(string) Flags { return Flags{ConfigFile: "explicit.properties"} },
			wantPort: 1004,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := isolate(t)
			for name, content := range tt.files {
				writeFile(t, filepath.Join(dir, name), content)
			}
			var flags Flags
			if tt.flags != nil {
				flags = tt.flags(dir)
			}
			got, err := Load(flags, tt.env)
			if err != nil {
				t.Fatal(err)
			}
			if got.Port != tt.wantPort {
				t.Errorf("Port = %d, want %d", got.Port, tt.wantPort)
			}
		})
	}
}

func TestMissingExplicitConfigFile(t *testing.T) {
	dir := isolate(t)
	// A file in a default location must not rescue a missing explicit one.
	writeFile(t, filepath.Join(dir, FileName), "application-port=1001")
	missing := filepath.Join(dir, "nope.properties")
	_, err := Load(Flags{ConfigFile: missing}, nil)
	if err == nil {
		t.Fatal("Load with a missing --config file: want error, got nil")
	}
	if !strings.Contains(err.Error(), missing) {
		t.Errorf("error %q does not name the file", err)
	}

	_, err = Load(Flags{ConfigFile: dir}, nil)
	if err == nil {
		t.Fatal("Load with a directory as --config: want error, got nil")
	}
}

func TestSizes(t *testing.T) {
	tests := []struct {
		in   string
		want int64
	}{
		{"0", 0},
		{"1024", 1024},
		{"100B", 100},
		{"512MiB", 512 << 20},
		{"10GiB", 10 << 30},
		{"10gib", 10 << 30},
		{"100MB", 100_000_000},
		{"2GB", 2_000_000_000},
		{"1tb", 1_000_000_000_000},
		{"2 KB", 2000},
		{"3KiB", 3072},
		{"1TiB", 1 << 40},
		{"1T", 1 << 40},
		{"5M", 5 << 20},
		{"  7G ", 7 << 30},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			isolate(t)
			got, err := Load(Flags{}, []string{
				"NEXUS_GO_UPLOAD_MAX_SIZE=" + tt.in,
				"NEXUS_GO_API_MAX_BODY_SIZE=" + tt.in,
			})
			if err != nil {
				t.Fatal(err)
			}
			if got.MaxUploadSize != tt.want || got.MaxRequestBody != tt.want {
				t.Errorf("MaxUploadSize, MaxRequestBody = %d, %d; want %d", got.MaxUploadSize, got.MaxRequestBody, tt.want)
			}
		})
	}
}

func TestContextPath(t *testing.T) {
	tests := []struct{ in, want string }{
		{"nexus", "/nexus"},
		{"/nexus/", "/nexus"},
		{"/nexus", "/nexus"},
		{"/", "/"},
		{"//", "/"},
		{"a/b/", "/a/b"},
		{"/a//b", "/a/b"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			dir := isolate(t)
			file := writeFile(t, filepath.Join(dir, "c.properties"), "nexus-context-path="+tt.in+"\n")
			got, err := Load(Flags{ConfigFile: file}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got.ContextPath != tt.want {
				t.Errorf("ContextPath(%q) = %q, want %q", tt.in, got.ContextPath, tt.want)
			}
		})
	}
}

func TestBadValues(t *testing.T) {
	tests := []struct {
		name  string
		file  string
		env   []string
		flags Flags
		want  []string // substrings of the error
	}{
		{name: "port not a number", env: []string{"NEXUS_GO_APPLICATION_PORT=http"}, want: []string{"application-port", "NEXUS_GO_APPLICATION_PORT"}},
		{name: "port zero", env: []string{"NEXUS_GO_APPLICATION_PORT=0"}, want: []string{"application-port"}},
		{name: "port too big", file: "application-port=65536", want: []string{"application-port", "c.properties"}},
		{name: "port flag negative", flags: Flags{Port: -1}, want: []string{"application-port", "--port"}},
		{name: "log level", env: []string{"NEXUS_GO_LOG_LEVEL=verbose"}, want: []string{"log.level", "debug, error, info, warn"}},
		{name: "log format", file: "log.format=xml", want: []string{"log.format"}},
		{name: "negative size", env: []string{"NEXUS_GO_UPLOAD_MAX_SIZE=-1"}, want: []string{"upload.max-size"}},
		{name: "bad size unit", file: "api.max-body-size=10XB", want: []string{"api.max-body-size"}},
		{name: "size overflow", file: "upload.max-size=100000000000TiB", want: []string{"upload.max-size"}},
		{name: "zero timeout", env: []string{"NEXUS_GO_PROXY_TIMEOUT=0"}, want: []string{"proxy.timeout", "greater than zero"}},
		{name: "negative timeout", file: "shutdown.timeout=-5s", want: []string{"shutdown.timeout"}},
		{name: "bad duration", file: "http.idle-timeout=soon", want: []string{"http.idle-timeout"}},
		{name: "bad connect timeout", env: []string{"NEXUS_GO_PROXY_CONNECT_TIMEOUT=1x"}, want: []string{"proxy.connect-timeout"}},
		{name: "bad read header timeout", env: []string{"NEXUS_GO_HTTP_READ_HEADER_TIMEOUT=0s"}, want: []string{"http.read-header-timeout"}},
		{name: "empty data dir", file: "data-dir=", want: []string{"data-dir"}},
		{name: "context path dotdot", file: "nexus-context-path=/a/../b", want: []string{"nexus-context-path"}},
		{name: "context path query", env: []string{"NEXUS_GO_NEXUS_CONTEXT_PATH=/a?b"}, want: []string{"nexus-context-path"}},
		{name: "host with slash", file: "application-host=http://x", want: []string{"application-host"}},
		{name: "negative connection cap", env: []string{"NEXUS_GO_HTTP_MAX_CONNECTIONS=-1"}, want: []string{"http.max-connections"}},
		{name: "bad trusted proxy", file: "http.trusted-proxies=10.0.0.0/8, proxy.example", want: []string{"http.trusted-proxies", "proxy.example"}},
		{name: "zero body idle timeout", env: []string{"NEXUS_GO_HTTP_BODY_IDLE_TIMEOUT=0"}, want: []string{"http.body-idle-timeout"}},
		{name: "allow creation not a boolean", file: "scripts.allow-creation=yes", want: []string{"scripts.allow-creation", "true or false"}},
		{name: "audit not a boolean", env: []string{"NEXUS_GO_AUDIT_ENABLED=on"}, want: []string{"audit.enabled", "true or false"}},
		{name: "zero audit age", file: "audit.max-age=0", want: []string{"audit.max-age", "greater than zero"}},
		{name: "negative audit files", file: "audit.max-files=-1", want: []string{"audit.max-files"}},
		{name: "bad audit file size", file: "audit.max-file-size=lots", want: []string{"audit.max-file-size"}},
		{name: "debug address without port", env: []string{"NEXUS_GO_HTTP_DEBUG_ADDR=127.0.0.1"}, want: []string{"http.debug.addr", "NEXUS_GO_HTTP_DEBUG_ADDR", "host:port"}},
		{name: "debug address port zero", file: "http.debug.addr=127.0.0.1:0", want: []string{"http.debug.addr"}},
		{name: "negative drain delay", file: "shutdown.drain-delay=-1s", want: []string{"shutdown.drain-delay", "negative"}},
		{name: "two bad keys", env: []string{"NEXUS_GO_LOG_LEVEL=x", "NEXUS_GO_LOG_FORMAT=y"}, want: []string{"log.level", "log.format"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := isolate(t)
			flags := tt.flags
			if tt.file != "" {
				flags.ConfigFile = writeFile(t, filepath.Join(dir, "c.properties"), tt.file+"\n")
			}
			wantLoadError(t, flags, tt.env, tt.want...)
		})
	}
}

// wantLoadError requires Load to fail with an error mentioning each of want.
func wantLoadError(t *testing.T, flags Flags, env []string, want ...string) {
	t.Helper()
	_, err := Load(flags, env)
	if err == nil {
		t.Fatal("want error, got nil")
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %q", err, w)
		}
	}
}

func TestTrustedProxies(t *testing.T) {
	isolate(t)
	got, err := Load(Flags{}, []string{"NEXUS_GO_HTTP_TRUSTED_PROXIES= 10.1.2.3 ,192.168.0.0/16,::1, 10.9.8.7/8"})
	if err != nil {
		t.Fatal(err)
	}
	if want := "10.1.2.3/32,192.168.0.0/16,::1/128,10.0.0.0/8"; got.TrustedProxies != want {
		t.Errorf("TrustedProxies = %q, want %q", got.TrustedProxies, want)
	}
	list, err := ParsePrefixes(got.TrustedProxies)
	if err != nil || len(list) != 4 {
		t.Errorf("ParsePrefixes(%q) = %v, %v", got.TrustedProxies, list, err)
	}
}

// Scripts are stored only where an admin said so, as in Nexus.
func TestScriptsAllowCreation(t *testing.T) {
	isolate(t)
	for env, want := range map[string]bool{"": false, "NEXUS_GO_SCRIPTS_ALLOW_CREATION=true": true, "NEXUS_GO_SCRIPTS_ALLOW_CREATION=FALSE": false} {
		got, err := Load(Flags{}, []string{env})
		if err != nil {
			t.Fatal(err)
		}
		if got.ScriptsAllowCreate != want {
			t.Errorf("%q: ScriptsAllowCreate = %v, want %v", env, got.ScriptsAllowCreate, want)
		}
	}
}

func TestAddr(t *testing.T) {
	tests := []struct {
		host string
		port int
		want string
	}{
		{"0.0.0.0", 8081, "0.0.0.0:8081"},
		{"", 80, ":80"},
		{"::1", 8443, "[::1]:8443"},
		{"localhost", 1, "localhost:1"},
	}
	for _, tt := range tests {
		if got := (Config{Host: tt.host, Port: tt.port}).Addr(); got != tt.want {
			t.Errorf("Addr(%q, %d) = %q, want %q", tt.host, tt.port, got, tt.want)
		}
	}
}

func TestEnvVar(t *testing.T) {
	tests := map[string]string{
		"application-port":         "NEXUS_GO_APPLICATION_PORT",
		"log.level":                "NEXUS_GO_LOG_LEVEL",
		"http.read-header-timeout": "NEXUS_GO_HTTP_READ_HEADER_TIMEOUT",
	}
	for key, want := range tests {
		if got := EnvVar(key); got != want {
			t.Errorf("EnvVar(%q) = %q, want %q", key, got, want)
		}
	}
}

func TestParseProperties(t *testing.T) {
	const text = "\ufeff# comment\r\n" +
		"! bang comment\n" +
		"   \n" +
		"a=1\n" +
		"b : 2\n" +
		"c 3\n" +
		"d\n" +
		"e = spaced value  \n" +
		"f = first \\\n" +
		"    second\n" +
		"g\\ h = key with space\n" +
		"i = tab\\tand\\u0041\n" +
		"j = C:\\\\dir\n" +
		"k.l-m = dotted\n" +
		"a=override\n" +
		"n = x=y:z\n" +
		"o=\\\\\n"
	got, err := parseProperties(text)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"a":     "override",
		"b":     "2",
		"c":     "3",
		"d":     "",
		"e":     "spaced value",
		"f":     "first second",
		"g h":   "key with space",
		"i":     "tab\tandA",
		"j":     `C:\dir`,
		"k.l-m": "dotted",
		"n":     "x=y:z",
		"o":     `\`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parseProperties =\n%q\nwant\n%q", got, want)
	}

	if _, err := parseProperties("a=\\u00zz\n"); err == nil {
		t.Error("malformed \\u escape: want error")
	}
}

// The example file must document every key, with its default, and loading
// it unchanged must give the defaults.
func TestExampleFile(t *testing.T) {
	example, err := filepath.Abs(filepath.Join("..", "..", "nexus-go.properties.example"))
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(example)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	for _, s := range settings {
		if !strings.Contains(text, s.key+"="+s.def) {
			t.Errorf("example file lacks %q", s.key+"="+s.def)
		}
	}
	if !strings.Contains(text, "NEXUS_GO_") {
		t.Error("example file does not mention the NEXUS_GO_ environment override")
	}

	isolate(t)
	got, err := Load(Flags{ConfigFile: example}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, defaults()) {
		t.Errorf("loading the example gives %+v, want defaults %+v", got, defaults())
	}

	// Uncommenting every "#key=value" line must also give the defaults.
	var b strings.Builder
	for _, line := range strings.Split(text, "\n") {
		for _, s := range settings {
			if strings.TrimSpace(line) == "#"+s.key+"="+s.def {
				line = s.key + "=" + s.def
			}
		}
		b.WriteString(line + "\n")
	}
	dir := t.TempDir()
	uncommented := writeFile(t, filepath.Join(dir, "x.properties"), b.String())
	entries, err := parseProperties(b.String())
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(settings) {
		t.Errorf("uncommented example has %d entries, want %d", len(entries), len(settings))
	}
	got, err = Load(Flags{ConfigFile: uncommented}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, defaults()) {
		t.Errorf("loading the uncommented example gives %+v, want defaults %+v", got, defaults())
	}
}

func TestDocsListEveryKey(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "docs", "configuration.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range settings {
		for _, w := range []string{"`" + s.key + "`", "`" + EnvVar(s.key) + "`"} {
			if !strings.Contains(string(data), w) {
				t.Errorf("docs/configuration.md does not mention %s", w)
			}
		}
	}
}
