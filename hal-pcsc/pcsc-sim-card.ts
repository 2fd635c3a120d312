import { UiccSimCard, type UiccSimCardOptions } from '../uicc/index.js';

/** The SimCard of a PcscCardReader, which also says which transmission protocol PC/SC negotiated. */
export class PcscSimCard extends UiccSimCard {
  readonly protocol: 'T0' | 'T1';

  constructor(options: UiccSimCardOptions, protocol: 'T0' | 'T1') {
    super(options);
    this.protocol = protocol;
  }
}
