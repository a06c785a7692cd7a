// The clusters the tests, tools and benchmarks start are the product's own launcher.
export { findPgBin, freePort, startCluster, type Cluster } from '../../server/pg-cluster.ts'
