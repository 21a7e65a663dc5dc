import { Module } from '@nestjs/common';
import { SecurityEventStore } from './security-event.store.js';

/** The security-event record: its table's store. */
@Module({
  providers: [SecurityEventStore],
  exports: [SecurityEventStore],
})
export class EventsModule {}
