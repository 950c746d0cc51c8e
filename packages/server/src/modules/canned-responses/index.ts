export { CannedResponseService } from './canned-response.service.ts';
