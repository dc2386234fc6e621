import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../support/fixtures.js';

/** Every key path a JSON Schema names (`server.port`, `delivery.limits.notion.rate`). */
function schemaPaths(schema: Record<string, unknown>, prefix = ''): string[] {
  const props = (schema.properties ?? {}) as Record<string, Record<string, unknown>>;
  return Object.entries(props).flatMap(([key, sub]) => {
    const path = prefix ? `${prefix}.${key}` : key;
    return [path, ...schemaPaths(sub, path)];
  });
}

/** Every key path of a TypeScript type's named properties, through nested object literals. */
function typePaths(checker: ts.TypeChecker, type: ts.Type, prefix = ''): string[] {
  return checker.getPropertiesOfType(type).flatMap((prop) => {
    const path = prefix ? `${prefix}.${prop.name}` : prop.name;
    const decl = prop.valueDeclaration ?? prop.declarations?.[0];
    const propType = checker.getNonNullableType(checker.getTypeOfSymbolAtLocation(prop, decl!));
    // Only object literals are walked: unions, arrays, records and primitives are leaves.
    const walk =
      propType.isUnion() || checker.isArrayType(propType) || !(propType.flags & ts.TypeFlags.Object) || checker.getIndexInfosOfType(propType).length > 0;
    return [path, ...(walk ? [] : typePaths(checker, propType, path))];
  });
}

describe('the Config type and the config schema', () => {
  it('name the same keys: no dead key in either (schemas/config.schema.json ⇔ src/config/types.ts)', () => {
    const file = join(repoRoot, 'src/config/types.ts');
    const program = ts.createProgram([file], { strict: true, noEmit: true });
    const checker = program.getTypeChecker();
    const source = program.getSourceFile(file)!;
    const config = source.statements.find((s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === 'Config')!;
    const fromType = typePaths(checker, checker.getTypeAtLocation(config.name)).filter((p) => p !== 'source'); // where it was read from: not a setting
    const fromSchema = schemaPaths(JSON.parse(readFileSync(join(repoRoot, 'schemas/config.schema.json'), 'utf8')) as Record<string, unknown>);
    expect(fromType.sort()).toEqual(fromSchema.sort());
  });
});
