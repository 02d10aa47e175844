/**
 * The one module that imports cdk8s-plus. cdk8s-plus-28 (Kubernetes 1.28) is
 * the version the design names and is no longer maintained; moving to -32/-33/-34
 * (same cdk8s peer) is a change of this line.
 */
export * as kplus from 'cdk8s-plus-28';
