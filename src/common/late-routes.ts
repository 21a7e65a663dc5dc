import { Injectable, OnModuleInit } from '@nestjs/common';

/**
 * Mounts routes after the controllers' own. Express walks its route list in order on every
 * request, so routes only a person reading the docs asks for are kept out of the API's way.
 * Nest mounts the controllers during init, then runs `onModuleInit`, then adds its not-found
 * handler: routes mounted here land between the two.
 */
@Injectable()
export class LateRoutes implements OnModuleInit {
  private readonly pending: (() => void)[] = [];
  private mounted = false;

  /** Call before `app.init()`; afterwards the not-found handler would shadow the routes. */
  add(mount: () => void): void {
    if (this.mounted)
      throw new Error('LateRoutes.add called after the app was initialised');
    this.pending.push(mount);
  }

  onModuleInit(): void {
    this.mounted = true;
    for (const mount of this.pending.splice(0)) mount();
  }
}
