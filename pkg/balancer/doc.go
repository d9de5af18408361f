// Package balancer keeps load-balancer pools in sync with running procs. A pool is a named set
// of nodes, each "host:port"; a Balancer lists, adds and deletes the nodes of pools, and may
// delete a whole pool (PoolDeleter).
//
// Backends live in sub-packages (dummy, nginx, varnish, haproxy, apache, stingray) and are
// listed in one place, balancer/all, which builds the Registry; there is no registration by
// init(). Every backend passes the conformance suite in balancer/balancertest. The file-based
// backends share balancer/poolfile: one file per pool on every balancer host, a per-pool lock
// on the host, atomic writes, validation before reload, the previous file put back when
// validation or reload fails, and a read-back after reload; hosts are updated in parallel.
//
// Configuration is the original's BALANCERS mapping (see ParseConfigs):
//
//	BALANCERS:
//	  my_nginx_balancer:
//	    BACKEND: vr.common.balancer.nginx.NginxBalancer   # or just: nginx
//	    hosts: [lb1.example.com, lb2.example.com]
package balancer
