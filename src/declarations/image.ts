import { z } from 'zod';
import { expected } from './issues.ts';

/** An image digest, `sha256:` and 64 hex digits: pins the exact bytes a tag pointed to when it was reviewed. */
export const ImageDigest = z.string().regex(/^sha256:[0-9a-f]{64}$/, { error: expected('an image digest "sha256:<64 hex digits>"') });

/** A registry (and path) that mirrors Docker Hub, e.g. `us-docker.pkg.dev/acme/dockerhub`; images become `<mirror>/vllm/vllm-openai:<tag>`. */
export const ImageRegistry = z.string().regex(/^[a-z0-9.-]+(:\d+)?(\/[a-z0-9._-]+)*$/, { error: expected('a registry host and optional path such as "us-docker.pkg.dev/acme/dockerhub"') });
