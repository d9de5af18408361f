package builder_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/vr-paas/vr/pkg/builder"
	"github.com/vr-paas/vr/pkg/buildpack"
	"github.com/vr-paas/vr/pkg/testutil"
)

func TestShell(t *testing.T) {
	e := newEnv(t)
	app, _ := gitRepo(t, "apps/hello")
	never, _ := gitRepo(t, "buildpacks/never")
	hello, _ := gitRepo(t, "buildpacks/hello")
	e.build(t, helloJob(t, app, "buildpack_url: "+hello), nil)
	before := cacheFiles(t, e, "hello", app)
	out := t.TempDir()

	var log, stdout, stderr testutil.SyncBuffer
	o := e.opts(&log)
	o.OutputDir = out
	o.In = strings.NewReader(`id -u; pwd; echo "cache=$CACHE_DIR env=$ENV_DIR home=$HOME"; cat $ENV_DIR/GREETING; echo; ls; touch $CACHE_DIR/from-shell
/tmp/buildpacks/hello-*/bin/compile $BUILD_DIR $CACHE_DIR $ENV_DIR >/dev/null && cat goodbye.txt
exit 7
`)
	o.Out, o.Err = &stdout, &stderr
	code, err := builder.Shell(context.Background(), helloJob(t, app, "buildpack_urls: ["+never+", "+hello+"]", "env: {GREETING: hi}"), o)
	if err != nil {
		t.Fatalf("shell: %v\n%s", err, log.String())
	}
	key := appKey("hello", app)
	if code != 7 {
		t.Errorf("exit code %d, want the shell's 7", code)
	}
	so, se := stdout.String(), stderr.String()
	for _, want := range []string{"65534\n/build/" + key + "\n", "cache=/cache/buildpack_cache env=/env home=/app", "hi\n", "hello.txt", "Goodbye, world!"} {
		if !strings.Contains(so, want) {
			t.Errorf("stdout lacks %q:\n%s\nstderr:\n%s", want, so, se)
		}
	}
	if !strings.Contains(se, "to run the compile by hand: /tmp/buildpacks/hello-") || !strings.Contains(se, " /build/"+key+" /cache/buildpack_cache /env") {
		t.Errorf("no hint line:\n%s", se)
	}
	if !strings.Contains(log.String(), `detected "HelloFramework"`) {
		t.Errorf("detect not run:\n%s", log.String())
	}
	ents, _ := os.ReadDir(out)
	if len(ents) != 0 {
		t.Errorf("vbuild shell wrote outputs: %v", ents)
	}
	if after := cacheFiles(t, e, "hello", app); after != before {
		t.Errorf("the shell changed the cache: %s, was %s", after, before)
	}
	assertClean(t, e, "hello", app)
}

func TestShellOnFailure(t *testing.T) {
	e := newEnv(t)
	app, _ := gitRepo(t, "apps/hello")
	failing, _ := gitRepo(t, "buildpacks/failing")
	var log, stdout testutil.SyncBuffer
	o := e.opts(&log)
	o.ShellOnFailure = true
	o.In = strings.NewReader("cat partial.txt; ls $CACHE_DIR\n")
	o.Out, o.Err = &stdout, &stdout
	_, err := builder.Build(context.Background(), helloJob(t, app, "buildpack_url: "+failing), o)
	var se *buildpack.StepError
	if !errors.As(err, &se) || se.ExitCode != 3 {
		t.Fatalf("err = %v", err)
	}
	if s := stdout.String(); !strings.Contains(s, "partial\n") || !strings.Contains(s, "poison") || !strings.Contains(s, "to run the compile by hand: /tmp/buildpacks/failing-") {
		t.Errorf("shell output:\n%s", s)
	}
	if !exists(e.out + "/compile.log") {
		t.Errorf("no compile.log")
	}
	assertClean(t, e, "hello", app)
}
