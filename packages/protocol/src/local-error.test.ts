import { describe, expect, it } from 'vitest';
import { CodedError, KindedError } from './local-error.js';

class WidgetError extends CodedError<'BROKEN' | 'MISSING'> {
  override readonly name = 'WidgetError';
}

class GadgetError extends KindedError<'config'> {
  override readonly name = 'GadgetError';
}

describe('local error bases', () => {
  it('a subclass keeps its name, its case and instanceof', () => {
    const coded = new WidgetError('BROKEN', 'widget broke');
    expect(coded).toBeInstanceOf(WidgetError);
    expect(coded).toBeInstanceOf(CodedError);
    expect(coded).toBeInstanceOf(Error);
    expect({ name: coded.name, code: coded.code, message: coded.message }).toEqual({
      name: 'WidgetError',
      code: 'BROKEN',
      message: 'widget broke',
    });
    expect(String(coded)).toBe('WidgetError: widget broke');
    const kinded = new GadgetError('config', 'bad option');
    expect(kinded).toBeInstanceOf(KindedError);
    expect(kinded).not.toBeInstanceOf(CodedError);
    expect({ name: kinded.name, kind: kinded.kind }).toEqual({
      name: 'GadgetError',
      kind: 'config',
    });
  });

  it('carries a cause only when one is given', () => {
    const cause = new Error('underlying');
    expect(new WidgetError('MISSING', 'gone', { cause }).cause).toBe(cause);
    expect('cause' in new WidgetError('MISSING', 'gone')).toBe(false);
    expect(new GadgetError('config', 'bad', { cause }).cause).toBe(cause);
    expect('cause' in new GadgetError('config', 'bad')).toBe(false);
  });
});
