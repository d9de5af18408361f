package balancer

import (
	"net"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

var (
	poolRe = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]*$`)
	hostRe = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9_.-]*[A-Za-z0-9])?$`)
)

// MaxPoolName is the longest pool name accepted.
const MaxPoolName = 100

// ValidatePool checks a pool name: letters, digits, '_', '.' and '-', not starting with '.'
// or '-', at most MaxPoolName characters. Backends may be stricter (Varnish).
func ValidatePool(pool string) error {
	switch {
	case pool == "":
		return &InputError{What: "pool", Value: pool, Reason: "empty name"}
	case len(pool) > MaxPoolName:
		return &InputError{What: "pool", Value: pool, Reason: "longer than " + strconv.Itoa(MaxPoolName) + " characters"}
	case !poolRe.MatchString(pool):
		return &InputError{What: "pool", Value: pool, Reason: "use letters, digits, '_', '.' and '-' (not first)"}
	}
	return nil
}

// SplitNode parses a node "host:port" (an IPv6 host in brackets) into host and port.
func SplitNode(node string) (host string, port int, err error) {
	h, p, serr := net.SplitHostPort(node)
	if serr != nil {
		return "", 0, &InputError{What: "node", Value: node, Reason: "want host:port"}
	}
	if _, aerr := netip.ParseAddr(h); aerr != nil && !hostRe.MatchString(h) {
		return "", 0, &InputError{What: "node", Value: node, Reason: "host must be a host name or an IP address"}
	}
	if strings.Contains(h, ":") && !strings.HasPrefix(node, "[") {
		return "", 0, &InputError{What: "node", Value: node, Reason: "write an IPv6 host in brackets: [addr]:port"}
	}
	n, perr := strconv.Atoi(p)
	if perr != nil || n < 1 || n > 65535 || strconv.Itoa(n) != p {
		return "", 0, &InputError{What: "node", Value: node, Reason: "port must be a number from 1 to 65535"}
	}
	return h, n, nil
}

// JoinNode is the inverse of SplitNode.
func JoinNode(host string, port int) string { return net.JoinHostPort(host, strconv.Itoa(port)) }

// ValidateNodes checks every node with SplitNode.
func ValidateNodes(nodes []string) error {
	for _, n := range nodes {
		if _, _, err := SplitNode(n); err != nil {
			return err
		}
	}
	return nil
}

// Check validates a pool name and nodes, as every Balancer method does first.
func Check(pool string, nodes []string) error {
	if err := ValidatePool(pool); err != nil {
		return err
	}
	return ValidateNodes(nodes)
}

// Sorted returns nodes sorted and without duplicates (a new slice, never nil).
func Sorted(nodes []string) []string {
	out := append([]string{}, nodes...)
	slices.Sort(out)
	return slices.Compact(out)
}

// Union returns the sorted union of a and b.
func Union(a, b []string) []string { return Sorted(append(append([]string{}, a...), b...)) }

// Subtract returns the sorted nodes of a that are not in b.
func Subtract(a, b []string) []string {
	out := []string{}
	for _, n := range Sorted(a) {
		if !slices.Contains(b, n) {
			out = append(out, n)
		}
	}
	return out
}

// Equal reports whether a and b hold the same nodes (in any order, ignoring duplicates).
func Equal(a, b []string) bool { return slices.Equal(Sorted(a), Sorted(b)) }

// JoinNodeString joins a host and a port given as text ("[::1]:80" for IPv6 hosts).
func JoinNodeString(host, port string) string { return net.JoinHostPort(host, port) }
