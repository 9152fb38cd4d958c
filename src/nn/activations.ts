/** Activation names (Keras spelling) and their parameters. */
import { ArgumentError, describe } from '../errors.js';

export type ActivationName = 'linear' | 'relu' | 'elu' | 'leaky_relu' | 'sigmoid' | 'tanh' | 'softmax';

export const ACTIVATIONS: readonly ActivationName[] = ['linear', 'relu', 'elu', 'leaky_relu', 'sigmoid', 'tanh', 'softmax'];

/** TF.js spellings accepted on import. */
const ALIASES: Record<string, ActivationName> = { leakyRelu: 'leaky_relu', LeakyReLU: 'leaky_relu', None: 'linear' };

export function parseActivation(value: unknown, where: string): ActivationName {
  if (value === undefined || value === null) return 'linear';
  if (typeof value === 'string') {
    if ((ACTIVATIONS as readonly string[]).includes(value)) return value as ActivationName;
    if (ALIASES[value]) return ALIASES[value];
  }
  throw new ArgumentError(`${where} must be one of ${ACTIVATIONS.join(', ')}; received ${describe(value)}`);
}

/** Default parameter: elu's alpha 1.0; leaky_relu's negative slope 0.2 (Keras' activation). */
export function activationAlpha(name: ActivationName): number {
  if (name === 'elu') return 1;
  if (name === 'leaky_relu') return 0.2;
  return 0;
}
