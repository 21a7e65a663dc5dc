import { IsOptional } from 'class-validator';

/** One environment variable as the schema declares it; the README's table is made from these. */
export interface EnvVariable {
  name: string;
  /** Used when the variable is unset or empty, in the form the environment would give it. */
  default?: string;
  /** Said after the default in the README, such as `30 days` or, with no default, what happens instead. */
  note?: string;
  /** The README's "meaning" column. */
  doc: string;
}

const declared = new WeakMap<object, EnvVariable[]>();

/**
 * Declares a property of an environment schema as the variable of the same name. A variable
 * without a default is optional: left unset, its property stays undefined.
 */
export function Env(options: Omit<EnvVariable, 'name'>): PropertyDecorator {
  return (prototype, property) => {
    if (options.default === undefined) IsOptional()(prototype, property);
    declared.set(prototype, [
      ...(declared.get(prototype) ?? []),
      { name: String(property), ...options },
    ]);
  };
}

/** The variables a schema class declares, in declaration order. */
export function envVariables(schema: new () => object): readonly EnvVariable[] {
  return declared.get(schema.prototype as object) ?? [];
}
