import { Module } from '@nestjs/common';
import { PasswordHasher } from './password-hasher.js';
import { RedisUserRepository } from './redis-user.repository.js';
import { UserRepository } from './user.repository.js';
import { UsersService } from './users.service.js';

@Module({
  providers: [
    PasswordHasher,
    UsersService,
    { provide: UserRepository, useClass: RedisUserRepository },
  ],
  exports: [UsersService],
})
export class UsersModule {}
