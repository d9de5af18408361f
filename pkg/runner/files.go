package runner

import (
	"bytes"
	"fmt"
	"sort"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"

	"github.com/vr-paas/vr/pkg/schema"
)

// ShellQuote quotes s for a POSIX shell: in single quotes, each single quote inside written
// as quote, backslash, quote, quote. The result is one word whose value is exactly s,
// whatever s holds ($, backquotes, double quotes, backslashes, newlines).
func ShellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// EnvSh renders env.sh: "export NAME='value'" per variable, sorted by name. As in the
// original, a value "$NAME" is replaced by the host environment variable NAME (empty when
// unset), read with getenv at setup time; unlike the original, only when NAME is a valid
// variable name, so that other values starting with "$" (a bcrypt hash, "$5 off") are kept
// instead of becoming empty. Unlike the original, which wrote export NAME="value" without
// escaping (so a value holding ", $ or ` broke the file or was expanded), every value is
// quoted so the proc sees it exactly.
func EnvSh(env map[string]string, getenv func(string) string) []byte {
	var b bytes.Buffer
	b.WriteString("# env.sh: the proc's environment, written by vr's runner setup; proc.sh sources it.\n")
	names := make([]string, 0, len(env))
	for k := range env {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		v := env[k]
		if ref, ok := strings.CutPrefix(v, "$"); ok && schema.ValidateEnvName(ref) == nil {
			v = getenv(ref)
		}
		fmt.Fprintf(&b, "export %s=%s\n", k, ShellQuote(v))
	}
	return b.Bytes()
}

// ProcSh renders proc.sh, the first thing run in every container of the proc, as the
// original's (POSIX sh, so that it also runs where there is no bash, e.g. busybox images):
// it exports TMPDIR=/tmp and HOME=/app, changes to /app, sources every file of
// $HOME/.profile.d (in name order) and then /env.sh, exports APP_SETTINGS_YAML=/settings.yaml
// and PORT (last, so nothing overrides them; PORT only when port is not 0); then "proc.sh run"
// runs the proc's command and "proc.sh CMD ARGS..." runs CMD with its arguments.
//
// The command is pasted into the script after exec, as the original did, so $VARS in it
// expand against the environment above. A command that exec cannot run as it is (a list
// with ;, &&, ||, |, &, parentheses, a leading assignment or shell builtin) is run as
// "exec <shell> -c '<command>'" instead: the original's "exec cd x && y" could not work.
// "proc.sh CMD ARGS..." keeps its arguments as they are (the original word-split them).
func ProcSh(shell, cmd string, port int) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, `#!%s
# proc.sh: written by vr's runner setup. "proc.sh run" runs the proc; "proc.sh CMD ARGS..."
# runs CMD in the proc's environment (shell, uptests).
export TMPDIR=/tmp
export HOME=/app
cd /app || exit 1
if [ -d "$HOME/.profile.d" ]; then
	for vr_profile in "$HOME"/.profile.d/*; do
		if [ -f "$vr_profile" ]; then
			. "$vr_profile"
		fi
	done
	unset vr_profile
fi
. /env.sh
export APP_SETTINGS_YAML=/settings.yaml
`, shell)
	if port > 0 {
		fmt.Fprintf(&b, "export PORT=%s\n", strconv.Itoa(port))
	}
	b.WriteString("if [ \"$1\" = run ]; then\n")
	if execable(cmd) {
		fmt.Fprintf(&b, "\texec %s\n", cmd)
	} else {
		fmt.Fprintf(&b, "\texec %s -c %s\n", shell, ShellQuote(cmd))
	}
	b.WriteString("fi\nexec \"$@\"\n")
	return b.Bytes()
}

// shellWords are the reserved words and the builtins that exist only inside a shell, which
// exec cannot run.
var shellWords = map[string]bool{
	"!": true, "{": true, "}": true, "[[": true, "if": true, "then": true, "else": true, "elif": true,
	"fi": true, "case": true, "esac": true, "for": true, "while": true, "until": true, "do": true,
	"done": true, "function": true, ".": true, ":": true, "source": true, "cd": true, "export": true,
	"unset": true, "set": true, "eval": true, "exec": true, "exit": true, "return": true,
	"readonly": true, "shift": true, "trap": true, "alias": true, "unalias": true, "ulimit": true,
	"umask": true, "wait": true, "read": true, "local": true, "let": true, "declare": true,
	"typeset": true, "hash": true, "type": true, "command": true, "builtin": true, "times": true,
	"break": true, "continue": true, "getopts": true, "jobs": true, "fg": true, "bg": true,
}

// execable reports whether "exec <cmd>" runs cmd as the shell would run it on its own line:
// a single simple command whose first word names a program.
func execable(cmd string) bool {
	// ">&" and "<&" are redirections (2>&1), not the & operator.
	ops := strings.NewReplacer(">&", "", "<&", "").Replace(cmd)
	if strings.ContainsAny(ops, ";&|()\n") {
		return false
	}
	f := strings.Fields(cmd)
	if len(f) == 0 {
		return false
	}
	first := f[0]
	if shellWords[first] {
		return false
	}
	// A leading NAME=value assignment.
	if i := strings.IndexByte(first, '='); i > 0 && !strings.ContainsAny(first[:i], `'"$\`+"`") {
		return false
	}
	return true
}

// SettingsYAML renders settings.yaml: the settings as a YAML mapping, keys sorted ("{}" when
// there are none, so readers always get a mapping).
func SettingsYAML(settings map[string]any) ([]byte, error) {
	if len(settings) == 0 {
		return []byte("{}\n"), nil
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(settings); err != nil {
		return nil, fmt.Errorf("settings: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("settings: %w", err)
	}
	return b.Bytes(), nil
}
