/**
 * Reading a layer's config: the generic reader of src/util/config-reader.ts plus the fields only
 * layers have (activation, initializers, regularizers), with the same one-line errors.
 */
import { ConfigReader } from '../util/config-reader.js';
import { type ActivationName, parseActivation } from './activations.js';
import { type InitializerConfig, parseInitializer } from './initializers.js';
import { type Regularizer, parseRegularizer } from './regularizers.js';

export class LayerConfigReader extends ConfigReader {
  activation(key: string): ActivationName {
    return parseActivation(this.take(key), `${this.where}: ${key}`);
  }

  initializer(key: string, def: string): InitializerConfig {
    const v = this.take(key);
    return parseInitializer(v === undefined || v === null ? def : v, `${this.where}: ${key}`);
  }

  regularizer(key: string): Regularizer | null {
    return parseRegularizer(this.take(key), `${this.where}: ${key}`);
  }
}
