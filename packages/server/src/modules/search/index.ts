export { MessageSearchService } from './message-search.service.ts';
