import { Module } from '@nestjs/common';
import { PasswordHasher } from './password-hasher.js';
import { DrizzleUserRepository } from './drizzle-user.repository.js';
import { UserRepository } from './user.repository.js';
import { UsersService } from './users.service.js';

@Module({
  providers: [
    PasswordHasher,
    UsersService,
    { provide: UserRepository, useClass: DrizzleUserRepository },
  ],
  exports: [UsersService],
})
export class UsersModule {}
