package console

import "testing"

// The console's tests hash with tiny costs: they make many users and sign-ins, and what is
// tested is the logic, not argon2 (TestDefaultHashCosts hashes once with the real costs).
func init() { hashParams = argonParams{Memory: 64, Time: 1, Threads: 1} }

// UseDefaultHashCosts makes HashPassword use the production costs until the test ends. Tests
// that call it must not run in parallel.
func UseDefaultHashCosts(t testing.TB) {
	cheap := hashParams
	hashParams = defaultHashParams
	t.Cleanup(func() { hashParams = cheap })
}

// ContentSecurityPolicy is the policy every console page is served with (made on first use,
// once every area has added its style rules).
func ContentSecurityPolicy() string { return contentSecurityPolicy() }
