export { MessageSearchService } from './message-search.service.ts';
export { SearchIndexUpkeep } from './search-index-upkeep.ts';
