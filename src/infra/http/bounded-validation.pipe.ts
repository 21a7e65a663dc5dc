import { ArgumentMetadata, ValidationPipe } from '@nestjs/common';
import { DomainError } from './domain-error.js';

/**
 * Far deeper than any DTO of this API. class-transformer recurses once per level, so a body
 * nested a few thousand levels deep (well under the 100 kB body limit) overflowed the stack
 * and answered 500.
 */
const MAX_INPUT_DEPTH = 32;

/** True when objects or arrays in `value` nest deeper than `limit`. Iterative: deep input cannot overflow it. */
function nestsDeeperThan(value: unknown, limit: number): boolean {
  const stack: { node: unknown; depth: number }[] = [{ node: value, depth: 0 }];
  while (stack.length > 0) {
    const { node, depth } = stack.pop()!;
    if (typeof node !== 'object' || node === null) continue;
    if (depth >= limit) return true;
    for (const child of Object.values(node))
      stack.push({ node: child, depth: depth + 1 });
  }
  return false;
}

/** The global ValidationPipe, refusing over-deep input before class-transformer walks it. */
export class BoundedValidationPipe extends ValidationPipe {
  override async transform(
    value: unknown,
    metadata: ArgumentMetadata,
  ): Promise<unknown> {
    if (this.toValidate(metadata) && nestsDeeperThan(value, MAX_INPUT_DEPTH)) {
      throw new DomainError('validation_failed', 'The request is invalid', {
        fields: [
          `${metadata.type} nests deeper than ${MAX_INPUT_DEPTH} levels`,
        ],
      });
    }
    return super.transform(value, metadata);
  }
}
