package fetch_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vr-paas/vr/pkg/fetch"
)

// TestErrorsDoNotPrintPasswords: a failed fetch of a URL with credentials names the URL
// without its password.
func TestErrorsDoNotPrintPasswords(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "nope", http.StatusNotFound)
	}))
	defer srv.Close()
	u := strings.Replace(srv.URL, "http://", "http://deploy:s3cret-token@", 1) + "/build.tar.gz"
	var progress strings.Builder
	_, err := fetch.Fetch(context.Background(), u, filepath.Join(t.TempDir(), "b.tar.gz"), fetch.Options{Progress: &progress})
	if err == nil {
		t.Fatal("no error for a 404")
	}
	for what, text := range map[string]string{"error": err.Error(), "progress": progress.String()} {
		if strings.Contains(text, "s3cret-token") {
			t.Errorf("%s prints the password: %s", what, text)
		}
	}
	if !strings.Contains(err.Error(), "deploy:xxxxx@") {
		t.Errorf("error does not name the (redacted) URL: %v", err)
	}
	if got := fetch.Redact("/local/path.tar.gz"); got != "/local/path.tar.gz" {
		t.Errorf("Redact changed a path: %q", got)
	}
}
