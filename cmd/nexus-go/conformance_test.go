package main

// The OCI Distribution Spec conformance suite, run as a real client against
// a hosted Docker repository's connector port with every optional area on.

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nexus-go/nexus-go/pkg/testproc"
)

// conformanceCountRe matches a count line of the "OCI Conformance Result"
// block of the suite's output, such as "  Pass..........:       1032".
var conformanceCountRe = regexp.MustCompile(`^\s*([A-Za-z]+)\.+:\s*(\d+)\s*$`)

// conformanceBadRe matches a result line of a test or area that did not
// pass, such as "  Blob push.....: Fail" or ".../blob-get: Error".
var conformanceBadRe = regexp.MustCompile(`:\s*(FAIL|Fail|Error|Skip|Disabled)\s*$`)

// conformanceCounts reads the last "OCI Conformance Result" block of out:
// the overall result, the counts by outcome and the block's text.
func conformanceCounts(out string) (result string, counts map[string]int, summary string) {
	lines := strings.Split(out, "\n")
	at := -1
	for i, line := range lines {
		if strings.Contains(line, "OCI Conformance Result") {
			at = i
		}
	}
	if at < 0 {
		return "", nil, ""
	}
	_, result, _ = strings.Cut(lines[at], "OCI Conformance Result:")
	result = strings.TrimSpace(result)
	counts = map[string]int{}
	end := min(len(lines), at+80)
	for i := at + 1; i < end; i++ {
		if m := conformanceCountRe.FindStringSubmatch(lines[i]); m != nil {
			n, _ := strconv.Atoi(m[2])
			counts[m[1]] = n
		}
	}
	return result, counts, strings.Join(lines[at:end], "\n")
}

func TestOCIConformance(t *testing.T) {
	bin := e2eTool(t, "NEXUS_GO_CONFORMANCE", "the OCI conformance suite")

	s := startServer(t)
	port := testproc.FreePort(t)
	s.mustJSON(http.StatusCreated, http.MethodPost, "/v1/repositories/docker/hosted", s.admin(),
		`{"name":"docker-conformance","online":true,"storage":{"blobStoreName":"default","strictContentTypeValidation":true,"writePolicy":"allow"},`+
			`"docker":{"v1Enabled":false,"forceBasicAuth":true,"allowSparseManifests":true,"httpPort":`+strconv.Itoa(port)+`}}`, nil)

	// The suite writes report.html and junit.xml into its working directory.
	work := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin)
	cmd.Dir = work
	cmd.WaitDelay = 10 * time.Second
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OCI_") { // the caller's settings of the suite
			env = append(env, kv)
		}
	}
	cmd.Env = append(env,
		"OCI_REGISTRY=127.0.0.1:"+strconv.Itoa(port),
		"OCI_TLS=disabled",
		"OCI_REPO1=myorg/myrepo",
		"OCI_REPO2=myorg/other",
		"OCI_USERNAME=admin",
		"OCI_PASSWORD="+s.adminPW,
		"OCI_API_BLOBS_UPLOAD_CANCEL=true",
		"OCI_DATA_SPARSE=true",
		"OCI_API_MANIFESTS_TAG_PARAM=true",
		"OCI_API_BLOBS_DIGEST_HEADER=true",
		"OCI_API_MANIFESTS_DIGEST_HEADER=true",
	)
	start := time.Now()
	outBytes, err := cmd.CombinedOutput()
	out := string(outBytes)
	t.Logf("conformance suite ran for %v", time.Since(start).Round(time.Millisecond))
	if ctx.Err() != nil {
		t.Fatalf("the conformance suite did not finish within 5 minutes; output tail:\n%s", conformanceTail(out, 8<<10))
	}

	// Every line naming FAIL is a failure, except the summary's count of
	// failures when it is zero.
	var failing []string
	for _, line := range strings.Split(out, "\n") {
		if m := conformanceCountRe.FindStringSubmatch(line); m != nil && m[1] == "FAIL" && m[2] == "0" {
			continue
		}
		if strings.Contains(line, "FAIL") || conformanceBadRe.MatchString(line) {
			failing = append(failing, line)
		}
	}
	result, counts, summary := conformanceCounts(out)
	t.Logf("conformance summary:\n%s", summary)
	if err != nil {
		t.Errorf("the conformance suite exited with %v", err)
	}
	if len(failing) > 0 {
		t.Errorf("%d lines of the conformance output report a failure:\n%s", len(failing), strings.Join(failing, "\n"))
	}
	if summary == "" {
		t.Errorf("no \"OCI Conformance Result\" block in the output")
	} else {
		if result != "Pass" {
			t.Errorf("OCI Conformance Result: %q, want Pass", result)
		}
		if counts["Pass"] == 0 {
			t.Errorf("Pass count 0 (parsed %v), want > 0", counts)
		}
		// Skipped or disabled tests mean an option of the suite is off or
		// a feature unsupported: every one must run.
		for _, k := range []string{"Skip", "Disabled", "FAIL", "Error"} {
			if n, ok := counts[k]; !ok || n != 0 {
				t.Errorf("%s count %d (present: %v), want 0", k, n, ok)
			}
		}
		if total, ok := counts["Total"]; ok && total != counts["Pass"] {
			t.Errorf("Total %d != Pass %d", total, counts["Pass"])
		}
	}
	if t.Failed() {
		t.Logf("conformance output tail:\n%s", conformanceTail(out, 64<<10))
	}
}

// conformanceTail is the last n bytes of s.
func conformanceTail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "...\n" + s[len(s)-n:]
}
