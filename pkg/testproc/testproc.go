// Package testproc runs the real servers tests talk to (slapd, an SMTP
// server) as child processes on 127.0.0.1, and finds them free ports.
package testproc

import (
	"bytes"
	"net"
	"os/exec"
	"testing"
	"time"
)

// FreePort returns a port of 127.0.0.1 that nothing listened on a moment
// ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Start starts cmd, a server called name, and waits up to 10 s until addr
// accepts connections. The process is killed when the test ends, and its
// output logged if the test failed.
func Start(t testing.TB, name string, cmd *exec.Cmd, addr string) {
	t.Helper()
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("%s output:\n%s", name, logs.String())
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not listen on %s: %v\n%s", name, addr, err, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
